// Example prompts as chips that fill the prompt: the pack's own (manifest `about.examplePrompts`,
// e.g. the LaVie-nano demo's shapes and motions), else prompts in the style of LaVie's samples.
import { useApp } from '../state.ts';

/** For packs that name no examples (real LaVie weights understand open-ended scenes). */
export const GENERIC_EXAMPLES: readonly string[] = [
  'a corgi walking in the park at sunrise, oil painting',
  'a teddy bear playing the guitar, high definition',
  'waves crashing against a lighthouse, cinematic',
  'a panda drinking coffee in a cafe in Paris',
];

export function ExamplePrompts() {
  const own = useApp((s) => s.pack?.about?.examplePrompts);
  const setField = useApp((s) => s.setField);
  const examples = own?.length ? own.slice(0, 6) : GENERIC_EXAMPLES;
  return (
    <div className="examples" role="group" aria-label="Example prompts">
      <span className="muted small">Try:</span>
      {examples.map((p) => (
        <button key={p} type="button" className="chip" onClick={() => setField('prompt', p)}>{p}</button>
      ))}
    </div>
  );
}
