// What the LaVie-nano demo model was trained on (training/nano/data.py), in one place on the
// TypeScript side: the evaluation's prompts and expected answers, the demo pack's example prompts.
// tests/nano/vocabulary.test.ts reads data.py and fails when the two drift apart.

/** Object colours, RGB in 0…1 as data.py renders them. */
export const NANO_COLORS = {
  red: [0.9, 0.1, 0.1],
  green: [0.1, 0.75, 0.2],
  blue: [0.15, 0.3, 0.95],
  yellow: [0.95, 0.85, 0.1],
  white: [0.97, 0.97, 0.97],
  purple: [0.6, 0.15, 0.75],
} as const satisfies Record<string, readonly [number, number, number]>;
export type NanoColor = keyof typeof NANO_COLORS;

/** Caption words for shapes → the shape drawn. */
export const NANO_SHAPE_WORDS = { circle: 'circle', ball: 'circle', square: 'square', box: 'square', triangle: 'triangle' } as const;
export type NanoShape = (typeof NANO_SHAPE_WORDS)[keyof typeof NANO_SHAPE_WORDS];
export const NANO_SHAPES: readonly NanoShape[] = ['circle', 'square', 'triangle'];

export const NANO_MOTIONS = ['left', 'right', 'up', 'down', 'growing'] as const;
export type NanoMotion = (typeof NANO_MOTIONS)[number];

export const NANO_BACKGROUNDS = ['black', 'white', 'gray', 'gradient'] as const;
export type NanoBackground = (typeof NANO_BACKGROUNDS)[number];
/** Flat backgrounds' grey level (0…1) and the gradient's top and bottom colours (data.py's _background). */
export const NANO_FLAT_BACKGROUNDS = { black: 0, white: 1, gray: 0.5 } as const;
export const NANO_GRADIENT = { top: [0.15, 0.1, 0.45], bottom: [0.95, 0.55, 0.2] } as const;

/** One caption phrase per motion and word per background, each one of data.py's. */
export const NANO_MOTION_PHRASE: Record<NanoMotion, string> = { left: 'moving left', right: 'moving right', up: 'moving up', down: 'moving down', growing: 'growing' };
export const NANO_BACKGROUND_WORD: Record<NanoBackground, string> = { black: 'black', white: 'white', gray: 'gray', gradient: 'gradient' };

/** What a nano video should show. */
export interface NanoScene { color: NanoColor; shape: NanoShape; motion: NanoMotion; background: NanoBackground }

/** data.py's first caption template: "a {color} {shape} {motion} on a {bg} background". */
export function nanoPrompt(s: NanoScene): string {
  return `a ${s.color} ${s.shape} ${NANO_MOTION_PHRASE[s.motion]} on a ${NANO_BACKGROUND_WORD[s.background]} background`;
}

const COLORS = Object.keys(NANO_COLORS) as NanoColor[];

/**
 * The evaluation's fixed scenes: scene i takes colour i mod 6, shape i mod 3, motion i mod 5 and
 * background i mod 4 (never white on white, which data.py does not draw), so 24 scenes show every
 * value at least four times and mix them differently.
 */
export function nanoEvalScenes(count = 24): NanoScene[] {
  return Array.from({ length: count }, (_, i) => {
    const color = COLORS[i % COLORS.length]!;
    let background = NANO_BACKGROUNDS[i % NANO_BACKGROUNDS.length]!;
    if (color === 'white' && background === 'white') background = 'black';
    return { color, shape: NANO_SHAPES[i % NANO_SHAPES.length]!, motion: NANO_MOTIONS[i % NANO_MOTIONS.length]!, background };
  });
}

/** Example prompts for the demo pack's banner (prompts the model was trained to follow). */
export const NANO_EXAMPLE_PROMPTS: readonly string[] = [
  nanoPrompt({ color: 'yellow', shape: 'triangle', motion: 'up', background: 'black' }),
  nanoPrompt({ color: 'red', shape: 'circle', motion: 'left', background: 'white' }),
  nanoPrompt({ color: 'blue', shape: 'square', motion: 'right', background: 'gradient' }),
  nanoPrompt({ color: 'green', shape: 'circle', motion: 'growing', background: 'gray' }),
];

export const NANO_PACK_NAME = 'LaVie-nano demo';
export const NANO_PACK_DESCRIPTION = 'LaVie-nano demo — trained on simple moving shapes';
