// Demux an MP4 with mediabunny (Node): what a player reads from the container.
import { ALL_FORMATS, BufferSource, EncodedPacketSink, Input } from 'mediabunny';

export async function demux(mp4: Uint8Array) {
  const input = new Input({ source: new BufferSource(mp4), formats: ALL_FORMATS });
  const track = (await input.getPrimaryVideoTrack())!;
  const sink = new EncodedPacketSink(track);
  const packets = [];
  for await (const p of sink.packets()) packets.push(p);
  return { mime: await input.getMimeType(), width: track.displayWidth, height: track.displayHeight, codec: await track.getCodecParameterString(), packets, duration: await track.computeDuration() };
}
