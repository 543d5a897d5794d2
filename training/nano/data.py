"""Seeded procedural captioned videos: coloured shapes moving over simple backgrounds.

A clip is a small parameter record (colour, shape, motion, background, size, start, travel);
`render` draws it at any time points and any resolution with anti-aliased edges, so one clip
serves every stage: base (16 frames at t = 0..15, 80x128), interpolation (61 frames at
t = j/4, the same 16-frame span at 4x the frame rate) and super-resolution (the same frames at
320x512, or a crop of them). Coordinates are in units of the frame height, so a clip looks the
same at every resolution. Pixels are RGB in [-1, 1], tensors [3, F, H, W].
"""
import math
import random

import torch

COLORS = {
    "red": (0.9, 0.1, 0.1),
    "green": (0.1, 0.75, 0.2),
    "blue": (0.15, 0.3, 0.95),
    "yellow": (0.95, 0.85, 0.1),
    "white": (0.97, 0.97, 0.97),
    "purple": (0.6, 0.15, 0.75),
}
SHAPES = {"circle": "circle", "ball": "circle", "square": "square", "box": "square", "triangle": "triangle"}
MOTIONS = ["left", "right", "up", "down", "growing"]
BACKGROUNDS = ["black", "white", "gray", "gradient"]
BG_WORDS = {"black": ["black", "dark"], "white": ["white"], "gray": ["gray", "grey"], "gradient": ["gradient", "sunset gradient"]}
MOTION_PHRASES = {
    "left": ["moving left", "moves to the left", "sliding left", "going left"],
    "right": ["moving right", "moves to the right", "sliding right", "going right"],
    "up": ["moving up", "rising", "floating up", "going up"],
    "down": ["moving down", "falling", "dropping down", "going down"],
    "growing": ["growing", "getting bigger", "expanding", "growing larger"],
}
TEMPLATES = [
    "a {color} {shape} {motion} on a {bg} background",
    "a {color} {shape} {motion}",
    "{color} {shape} {motion}, {bg} background",
    "the {color} {shape} is {motion} on {bg}",
    "a {color} {shape} {motion} against a {bg} backdrop",
    "video of a {color} {shape} {motion}",
]
ASPECT = 8 / 5  # width / height, LaVie's 320x512
BASE_FRAMES = 16
# Words the stages' fixed prompts use (interpolation suffix ", 4k.", VSR negative prompt, interp's "None").
EXTRA_WORDS = ["blur", "worst", "quality", "none", "k", "high", "definition", "video", "of"]


def caption_vocabulary():
    words = set(EXTRA_WORDS)
    for t in TEMPLATES:
        words.update(w for w in t.replace(",", " ").split() if not w.startswith("{"))
    for group in (COLORS, SHAPES):
        words.update(group)
    for ps in list(MOTION_PHRASES.values()) + list(BG_WORDS.values()):
        for p in ps:
            words.update(p.split())
    return sorted(words)


def sample_clip(rng):
    """A random clip description (rng: random.Random)."""
    color = rng.choice(list(COLORS))
    bg = rng.choice(BACKGROUNDS)
    while (color, bg) in (("white", "white"),):
        bg = rng.choice(BACKGROUNDS)
    shape_word = rng.choice(list(SHAPES))
    motion = rng.choice(MOTIONS)
    r0 = rng.uniform(0.10, 0.17)  # half-size, in frame heights
    W = ASPECT
    if motion == "growing":
        r1 = r0 * rng.uniform(1.8, 2.4)
        cx, cy = rng.uniform(0.45, W - 0.45), rng.uniform(0.4, 0.6)
        start, end = (cx, cy), (cx, cy)
    else:
        r1 = r0
        travel = rng.uniform(0.45, 0.75) * (W if motion in ("left", "right") else 1.0)
        m = r0 + 0.03
        if motion in ("left", "right"):
            y = rng.uniform(m, 1 - m)
            x0 = rng.uniform(m, W - m - travel)
            start, end = ((x0, y), (x0 + travel, y)) if motion == "right" else ((x0 + travel, y), (x0, y))
        else:
            travel = min(travel, 1 - 2 * m)
            x = rng.uniform(m, W - m)
            y0 = rng.uniform(m, 1 - m - travel)
            start, end = ((x, y0 + travel), (x, y0)) if motion == "up" else ((x, y0), (x, y0 + travel))
    caption = rng.choice(TEMPLATES).format(
        color=color, shape=shape_word, motion=rng.choice(MOTION_PHRASES[motion]), bg=rng.choice(BG_WORDS[bg])
    )
    return {"color": color, "shape": SHAPES[shape_word], "motion": motion, "bg": bg, "r0": r0, "r1": r1,
            "start": start, "end": end, "caption": caption}


def _background(bg, ys, xs):
    h, w = ys.shape[0], xs.shape[1]
    if bg == "gradient":
        top, bottom = torch.tensor([0.15, 0.1, 0.45]), torch.tensor([0.95, 0.55, 0.2])
        a = ys.expand(h, w)[None]  # 0 at the top, 1 at the bottom
        return top[:, None, None] * (1 - a) + bottom[:, None, None] * a
    v = {"black": 0.0, "white": 1.0, "gray": 0.5}[bg]
    return torch.full((3, h, w), v)


def render(clip, times, height, width, crop=None):
    """Frames at `times` (base-frame units, 0..15) → [3, F, h, w] in [-1, 1].

    crop = (y0, x0, h, w) in pixels of the height x width frame: render only that window.
    """
    y0, x0, ch, cw = crop if crop else (0, 0, height, width)
    px = 1.0 / height  # one pixel, in frame heights
    ys = ((torch.arange(ch, dtype=torch.float32) + y0 + 0.5) * px)[:, None]
    xs = ((torch.arange(cw, dtype=torch.float32) + x0 + 0.5) * px)[None, :]
    bgimg = _background(clip["bg"], ys, xs)
    col = torch.tensor(COLORS[clip["color"]])[:, None, None]
    frames = []
    for t in times:
        a = min(max(t / (BASE_FRAMES - 1), 0.0), 1.0)
        cx = clip["start"][0] + (clip["end"][0] - clip["start"][0]) * a
        cy = clip["start"][1] + (clip["end"][1] - clip["start"][1]) * a
        r = clip["r0"] + (clip["r1"] - clip["r0"]) * a
        dx, dy = xs - cx, ys - cy
        if clip["shape"] == "circle":
            sd = torch.sqrt(dx * dx + dy * dy) - r
        elif clip["shape"] == "square":
            sd = torch.maximum(dx.abs(), dy.abs()) - 0.85 * r
        else:  # upward equilateral triangle inscribed in radius r
            k = math.sqrt(3) / 2
            e1 = dy - 0.5 * r
            e2 = -k * dx - 0.5 * dy - 0.5 * r
            e3 = k * dx - 0.5 * dy - 0.5 * r
            sd = torch.maximum(e1, torch.maximum(e2, e3))
        alpha = (0.5 - sd / px).clamp(0, 1)[None]
        frames.append(bgimg * (1 - alpha) + col * alpha)
    return torch.stack(frames, dim=1) * 2 - 1


def base_times():
    return [float(i) for i in range(BASE_FRAMES)]


def interp_times():
    """LaVie's 61 output frames span the 16 input frames at 4x the rate: t = j/4."""
    return [j / 4 for j in range(4 * BASE_FRAMES - 3)]


def clip_rng(seed, index):
    return random.Random(seed * 1_000_003 + index)
