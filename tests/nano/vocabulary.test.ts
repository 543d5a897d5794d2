// The TypeScript vocabulary of LaVie-nano (src/nano/vocabulary.ts) must be the training data's
// (training/nano/data.py): read the Python source and compare every list, colour and phrase.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/fixtures.ts';
import { NANO_BACKGROUNDS, NANO_BACKGROUND_WORD, NANO_COLORS, NANO_FLAT_BACKGROUNDS, NANO_GRADIENT, NANO_MOTIONS, NANO_MOTION_PHRASE, NANO_SHAPE_WORDS, nanoEvalScenes, nanoPrompt } from '../../src/nano/vocabulary.ts';

const py = readFileSync(join(REPO_ROOT, 'training/nano/data.py'), 'utf8');

/** The text of a top-level `NAME = {…}` / `[…]` assignment. */
function block(name: string): string {
  // One line (`[…]`) or several lines closed by a bracket at the start of a line.
  const m = new RegExp(`^${name} = ([\\[{](?:[^\\n]*[\\]}]$|[\\s\\S]*?^[\\]}]$))`, 'm').exec(py);
  assert.ok(m, `${name} not found in data.py`);
  return m[1]!;
}
const strings = (s: string) => [...s.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
const numbers = (s: string) => [...s.matchAll(/-?\d+(?:\.\d+)?/g)].map((m) => Number(m[0]));

test('colours: names and RGB as data.py renders them', () => {
  const entries = [...block('COLORS').matchAll(/"(\w+)": \(([^)]*)\)/g)].map((m) => [m[1]!, numbers(m[2]!)] as const);
  assert.deepEqual(Object.fromEntries(entries), Object.fromEntries(Object.entries(NANO_COLORS).map(([k, v]) => [k, [...v]])));
});

test('shapes, motions, backgrounds, and the phrases the prompts use', () => {
  const shapes = [...block('SHAPES').matchAll(/"(\w+)": "(\w+)"/g)].map((m) => [m[1]!, m[2]!]);
  assert.deepEqual(Object.fromEntries(shapes), NANO_SHAPE_WORDS);
  assert.deepEqual(strings(block('MOTIONS')), [...NANO_MOTIONS]);
  assert.deepEqual(strings(block('BACKGROUNDS')), [...NANO_BACKGROUNDS]);
  const phrases = block('MOTION_PHRASES');
  for (const m of NANO_MOTIONS) assert.ok(new RegExp(`"${m}": \\[[^\\]]*"${NANO_MOTION_PHRASE[m]}"`).test(phrases), `${m}: "${NANO_MOTION_PHRASE[m]}"`);
  const bgWords = block('BG_WORDS');
  for (const b of NANO_BACKGROUNDS) assert.ok(new RegExp(`"${b}": \\[[^\\]]*"${NANO_BACKGROUND_WORD[b]}"`).test(bgWords), b);
  assert.ok(strings(block('TEMPLATES')).includes('a {color} {shape} {motion} on a {bg} background'));
  assert.equal(nanoPrompt({ color: 'yellow', shape: 'triangle', motion: 'up', background: 'black' }), 'a yellow triangle moving up on a black background');
});

test('backgrounds: flat grey levels and the gradient colours', () => {
  const fn = /def _background[\s\S]*?\n\n\n/.exec(py)![0];
  assert.deepEqual(numbers(/top, bottom = (.*)/.exec(fn)![1]!), [...NANO_GRADIENT.top, ...NANO_GRADIENT.bottom]);
  const flat = [...(/v = \{([^}]*)\}/.exec(fn)![1]!).matchAll(/"(\w+)": ([\d.]+)/g)].map((m) => [m[1]!, Number(m[2])]);
  assert.deepEqual(Object.fromEntries(flat), NANO_FLAT_BACKGROUNDS);
});

test('the evaluation scenes show every colour, shape, motion and background, never white on white', () => {
  const s = nanoEvalScenes();
  for (const [key, all] of [['color', Object.keys(NANO_COLORS)], ['shape', ['circle', 'square', 'triangle']], ['motion', NANO_MOTIONS], ['background', NANO_BACKGROUNDS]] as const) {
    assert.deepEqual(new Set(s.map((x) => x[key])), new Set(all), key);
  }
  assert.ok(!s.some((x) => x.color === 'white' && x.background === 'white'));
});
