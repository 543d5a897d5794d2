// The request contract (src/protocol/request.ts): one validation for every caller, defaults from the
// pack, seeds inside the range the noise accepts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FREENOISE_WINDOWS } from '../../src/engine/freenoise.ts';
import { longFramesArg } from '../../src/convert/cli/long-frames.ts';
import { BadRequestError, LIMITS, PROMPT_TEXT_TOKENS, SAMPLERS, checkSeed, framesProblem, longLengths, randomSeed, validateRequest, withDefaults, type GenerateRequest } from '../../src/protocol.ts';

const ok: GenerateRequest = { id: 'r1', prompt: 'a cat', negativePrompt: '', seed: 0, steps: 1, guidanceScale: 0, sampler: 'ddpm' };
const fieldOf = (r: unknown, pack?: Parameters<typeof validateRequest>[1]) => validateRequest(r, pack)?.field ?? null;

test('a request at every limit is valid; one past any limit names that field', () => {
  assert.equal(validateRequest(ok), null);
  assert.equal(validateRequest({ ...ok, seed: LIMITS.seed.max, steps: LIMITS.steps.max, guidanceScale: LIMITS.guidanceScale.max, prompt: 'x'.repeat(LIMITS.promptChars) }), null);
  const past: [keyof GenerateRequest, unknown][] = [
    ['seed', LIMITS.seed.max + 1], ['seed', -1], ['seed', 1.5], ['seed', '3'],
    ['steps', LIMITS.steps.min - 1], ['steps', LIMITS.steps.max + 1], ['steps', 2.5],
    ['guidanceScale', LIMITS.guidanceScale.max + 0.01], ['guidanceScale', Number.NaN], ['guidanceScale', -0.5],
    ['prompt', '   '], ['prompt', 'x'.repeat(LIMITS.promptChars + 1)], ['prompt', 3],
    ['negativePrompt', undefined], ['sampler', 'evil'], ['interpolate', 'yes'], ['id', ''],
  ];
  for (const [f, v] of past) {
    const e = validateRequest({ ...ok, [f]: v });
    assert.ok(e instanceof BadRequestError, `${f}=${String(v)} accepted`);
    assert.equal(e.code, 'bad-request');
    assert.equal(e.field, f);
    assert.deepEqual(e.toInfo(), { code: 'bad-request', message: e.message, recoverable: true, field: f });
  }
  assert.ok(validateRequest(null) instanceof BadRequestError);
});

test('stages the pack does not offer are refused; a body without id checks as a body', () => {
  assert.equal(fieldOf({ ...ok, interpolate: true }, { stages: {} }), 'interpolate');
  assert.equal(fieldOf({ ...ok, superResolve: true }, { stages: { interp: {} } }), 'superResolve');
  assert.equal(fieldOf({ ...ok, interpolate: true, superResolve: true }, { stages: { interp: {}, vsr: {} } }), null);
  const { id: _, ...body } = ok;
  assert.equal(validateRequest(body, undefined, { needsId: false }), null);
  assert.equal(fieldOf(body), 'id');
});

test('defaults come from the pack; given fields win; text is trimmed', () => {
  const pack = { steps: 25, guidanceScale: 4, sampler: 'euler' as const };
  assert.deepEqual(withDefaults({ prompt: ' a dog ' }, pack, () => 7), { prompt: 'a dog', negativePrompt: '', seed: 7, steps: 25, guidanceScale: 4, sampler: 'euler' });
  assert.deepEqual(withDefaults({ prompt: 'a', seed: 0, steps: 3, sampler: 'ddim', interpolate: true, superResolve: false }, pack, () => 7), { prompt: 'a', negativePrompt: '', seed: 0, steps: 3, guidanceScale: 4, sampler: 'ddim', interpolate: true });
  assert.ok(SAMPLERS.includes(withDefaults({ prompt: 'a' }, pack).sampler));
});

test('seeds: random ones are in range; the noise refuses out-of-range ones instead of wrapping', () => {
  for (let i = 0; i < 200; i++) {
    const s = randomSeed();
    assert.ok(Number.isInteger(s) && s >= LIMITS.seed.min && s <= LIMITS.seed.max);
  }
  assert.equal(checkSeed(LIMITS.seed.max), LIMITS.seed.max);
  assert.throws(() => checkSeed(LIMITS.seed.max + 1), BadRequestError);
  assert.throws(() => checkSeed(-1), BadRequestError);
  assert.equal(PROMPT_TEXT_TOKENS, LIMITS.promptTokens - 2);
});

test('long videos: frames 16 + 4k up to 64 (FreeNoise windows), offered by the pack, DDIM; prompt ranges tile the frames', () => {
  assert.deepEqual([LIMITS.frames.min, LIMITS.frames.step], [FREENOISE_WINDOWS.size, FREENOISE_WINDOWS.stride], 'lengths follow the windows');
  const ddim = { ...ok, sampler: 'ddim' as const };
  const pack = { stages: {}, lengths: [16, 24, 32, 64] };
  assert.equal(fieldOf({ ...ddim, frames: 64 }, pack), null);
  assert.equal(fieldOf({ ...ddim, frames: 16 }), null);
  for (const f of [12, 26, 68, 24.5, '24']) assert.equal(fieldOf({ ...ddim, frames: f }), 'frames', `frames ${f}`);
  assert.equal(fieldOf({ ...ddim, frames: 28 }, pack), 'frames', 'a length the pack has no graph for');
  assert.equal(fieldOf({ ...ddim, frames: 24 }, { stages: {} }), 'frames', 'a pack without lengths offers 16 only');
  assert.equal(fieldOf({ ...ok, frames: 24 }), 'frames', 'DDPM draws fresh noise every step');
  const two = [{ prompt: 'a cat walks', from: 0, to: 15 }, { prompt: 'a cat sits', from: 16, to: 31 }];
  assert.equal(fieldOf({ ...ddim, frames: 32, segments: two }), null);
  assert.equal(fieldOf({ ...ddim, frames: 24, segments: two }), 'segments');
  assert.equal(fieldOf({ ...ddim, segments: [{ prompt: 'a', from: 0, to: 7 }, { prompt: 'b', from: 8, to: 15 }] }), 'segments');
  assert.equal(fieldOf({ ...ddim, segments: 'a@0-15' }), 'segments');
  assert.deepEqual(withDefaults({ prompt: 'x', frames: 32, sampler: 'ddim', segments: [{ prompt: ' a ', from: 0, to: 31 }] }, { steps: 1, guidanceScale: 1, sampler: 'ddpm' }, () => 1).segments, [{ prompt: 'a', from: 0, to: 31 }]);
});

test('long lengths: every 16 + 4k up to the limit, the ones packs are built for (--long-frames)', () => {
  assert.deepEqual(longLengths(), [20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60, 64]);
  assert.ok(longLengths().every((n) => framesProblem(n) === null));
  assert.deepEqual(longFramesArg('all'), longLengths());
  assert.deepEqual(longFramesArg('64, 32,32'), [32, 64]);
  for (const bad of ['16', '30', '68', 'x']) assert.throws(() => longFramesArg(bad), /--long-frames/);
});
