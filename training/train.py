"""Train the LaVie-nano cascade on procedural videos, CPU only, resumable.

    /usr/bin/python3 training/train.py                 # run / resume every phase (npm run train:nano)
    /usr/bin/python3 training/train.py export          # write the official layouts from the checkpoints
    /usr/bin/python3 training/train.py snapshot        # fp16 resume bundle into models/lavie-nano/
    /usr/bin/python3 training/train.py layout [dir]    # configs + tokenizers of a bundle (layout/), for npm run setup

Phases (in order): vae → base (text encoder + base UNet) → interp → x4vae → vsr.
Work dir (checkpoints, losses.tsv, export/): $LAVIE_NANO_WORKDIR or ~/.cache/lavie-nano. When it
holds no checkpoint, training resumes from the committed bundle models/lavie-nano/ (if present).
Step counts: defaults below, override with LAVIE_NANO_STEPS="vae=3000,base=12000,...".
"""
import copy
import json
import math
import os
import random
import signal
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from nano import configs as C  # noqa: E402
from nano import data as D  # noqa: E402
from nano.clip_text import CLIPTextModel  # noqa: E402
from nano.safetensors_io import load_file, save_file  # noqa: E402
from nano.tokenizer import EOS, Tokenizer, build_vocab, write_dir  # noqa: E402
from nano.unet3d import UNet3D  # noqa: E402
from nano.vae import AutoencoderKL  # noqa: E402

PHASES = ["vae", "base", "interp", "x4vae", "vsr"]
DEFAULT_STEPS = {"vae": 3000, "base": 12000, "interp": 2500, "x4vae": 1500, "vsr": 3000}
BATCH = {"vae": 8, "base": 8, "interp": 2, "x4vae": 8, "vsr": 2}
LR = {"vae": 2e-4, "base": 2e-4, "interp": 1e-4, "x4vae": 2e-4, "vsr": 2e-4}
SEED = 1234
CAPTION_DROPOUT = 0.1
EMA_DECAY = 0.999
SAVE_EVERY_S = 600
REPO = os.path.dirname(HERE)
BUNDLE = os.path.join(REPO, "models", "lavie-nano")
WORK = os.environ.get("LAVIE_NANO_WORKDIR", os.path.expanduser("~/.cache/lavie-nano"))
CKPT = os.path.join(WORK, "ckpt")

# LaVie's training/inference schedule for base, interp and VSR: linear betas 1e-4..0.02, 1000 steps.
BETAS = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
ALPHAS_CUMPROD = torch.cumprod(1 - BETAS, 0).float()
# The x4 low-res noise scheduler stays scaled_linear (LAVIE.md §8.3); levels 0..350 as max_noise_level.
LOWRES_ALPHAS_CUMPROD = torch.cumprod(1 - torch.linspace(1e-4**0.5, 0.02**0.5, 1000, dtype=torch.float64) ** 2, 0).float()
MAX_NOISE_LEVEL = 350
MIN_SNR_GAMMA = 5.0


def steps_plan():
    plan = dict(DEFAULT_STEPS)
    for part in filter(None, os.environ.get("LAVIE_NANO_STEPS", "").split(",")):
        k, v = part.split("=")
        plan[k.strip()] = int(v)
    return plan


def log(msg):
    line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {msg}"
    print(line, flush=True)


# ------------------------------------------------------------------ tokenizer and models

def tokenizer_files():
    vocab, merges = build_vocab(D.caption_vocabulary())
    return vocab, merges


VOCAB, MERGES = tokenizer_files()
TOK = Tokenizer(VOCAB, MERGES)
TOK_X4 = Tokenizer(VOCAB, MERGES, pad_token="!")
CLIP_CFG = C.clip_text(len(VOCAB), VOCAB["<|startoftext|>"], VOCAB[EOS], VOCAB[EOS], "quick_gelu")
CLIP_X4_CFG = C.clip_text(len(VOCAB), VOCAB["<|startoftext|>"], VOCAB[EOS], VOCAB["!"], "gelu")


def build(name, cfgs):
    if name == "vae":
        return AutoencoderKL(cfgs["vae"])
    if name == "x4vae":
        return AutoencoderKL(cfgs["x4vae"])
    if name == "text":
        return CLIPTextModel(CLIP_CFG)
    if name == "text_x4":
        return CLIPTextModel(CLIP_X4_CFG)
    if name == "base_unet":
        return UNet3D(C.unet3d_from_sd(C.SD_UNET), "base")
    if name == "interp_unet":
        return UNet3D(C.unet3d_from_sd(C.SD_UNET, interp=True), "interp")
    if name == "vsr_unet":
        return UNet3D(C.VSR_UNET, "vsr")
    raise KeyError(name)


PHASE_MODELS = {"vae": ["vae"], "base": ["text", "base_unet"], "interp": ["interp_unet"], "x4vae": ["x4vae"], "vsr": ["text_x4", "vsr_unet"]}


def params_m(m):
    return sum(p.numel() for p in m.parameters() if p.requires_grad) / 1e6


# ------------------------------------------------------------------ state on disk

class State:
    """progress.json (phase done flags, VAE scaling factors) + one checkpoint file per phase."""

    def __init__(self):
        os.makedirs(CKPT, exist_ok=True)
        self.path = os.path.join(WORK, "progress.json")
        self.p = {"done": [], "scaling": {}}
        if os.path.exists(self.path):
            with open(self.path) as f:
                self.p = json.load(f)
        elif os.path.isdir(BUNDLE):
            self.seed_from_bundle()

    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.p, f, indent=1)
        os.replace(tmp, self.path)

    def cfgs(self):
        vae = dict(C.VAE, scaling_factor=self.p["scaling"].get("vae", C.VAE["scaling_factor"]))
        x4 = dict(C.X4_VAE, scaling_factor=self.p["scaling"].get("x4vae", C.X4_VAE["scaling_factor"]))
        return {"vae": vae, "x4vae": x4}

    def ckpt_path(self, phase):
        return os.path.join(CKPT, f"{phase}.pt")

    def load_phase(self, phase):
        p = self.ckpt_path(phase)
        return torch.load(p) if os.path.exists(p) else None

    def save_phase(self, phase, blob):
        p = self.ckpt_path(phase)
        torch.save(blob, p + ".tmp")
        os.replace(p + ".tmp", p)

    def final(self, name):
        """EMA (or plain) weights of a finished network."""
        for phase, names in PHASE_MODELS.items():
            if name in names:
                blob = self.load_phase(phase)
                if blob is None:
                    raise RuntimeError(f"{name}: phase {phase} has no checkpoint")
                m = build(name, self.cfgs())
                m.load_state_dict(blob["ema"].get(name, blob["models"][name]))
                return m.eval()
        raise KeyError(name)

    def seed_from_bundle(self):
        """New machine: rebuild the work dir from models/lavie-nano (fp16 weights, no optimizer state)."""
        with open(os.path.join(BUNDLE, "state.json")) as f:
            st = json.load(f)
        self.p = {"done": st["done"], "scaling": st["scaling"]}
        for phase, info in st["phases"].items():
            models, ema = {}, {}
            for name in PHASE_MODELS[phase]:
                sd = {k: v.float() if v.is_floating_point() else v for k, v in load_file(os.path.join(BUNDLE, f"{name}.safetensors")).items()}
                models[name] = sd
                ema[name] = sd
            self.save_phase(phase, {"step": info["step"], "models": models, "ema": ema, "opt": None})
        self.save()
        log(f"seeded {WORK} from {BUNDLE}: done {self.p['done']}, steps {({k: v['step'] for k, v in st['phases'].items()})}")


# ------------------------------------------------------------------ data helpers

def caption_ids(captions, tok, rng):
    ids = [tok.encode("" if rng.random() < CAPTION_DROPOUT else c) for c in captions]
    return torch.tensor(ids, dtype=torch.long)


def kl_loss(mean, logvar):
    return 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar).mean()


def posterior_sample(mean, std):
    return mean + std * torch.randn_like(mean)


@torch.no_grad()
def encode_frames(vae, frames, chunk=32):
    """frames [N,3,H,W] → (mean, std) fp16, chunked."""
    ms, ss = [], []
    for i in range(0, frames.shape[0], chunk):
        m, lv = vae.encode(frames[i : i + chunk])
        ms.append(m.half())
        ss.append(torch.exp(0.5 * lv).half())
    return torch.cat(ms), torch.cat(ss)


class LatentPool:
    """Encoded clips kept in memory; a few are replaced every step so the data keeps changing."""

    def __init__(self, make, size, refresh, rng):
        self.make, self.refresh, self.rng = make, refresh, rng
        self.items = []
        t = time.time()
        for i in range(size):
            self.items.append(make())
        log(f"latent pool: {size} clips encoded in {time.time() - t:.0f}s")

    def batch(self, n):
        for _ in range(self.refresh):
            self.items[self.rng.randrange(len(self.items))] = self.make()
        return [self.items[self.rng.randrange(len(self.items))] for _ in range(n)]


def ema_update(ema, model, step):
    d = min(EMA_DECAY, (1 + step) / (10 + step))
    with torch.no_grad():
        for (k, e), (_, p) in zip(ema.state_dict().items(), model.state_dict().items()):
            if e.is_floating_point():
                e.mul_(d).add_(p, alpha=1 - d)


def min_snr_weight(t, v_prediction=False):
    """Min-SNR-γ loss weights (Hang et al. 2023, arXiv 2303.09556), per sample [B]: the low-noise steps,
    whose ε-error is mostly the VAE posterior's own noise, stop drowning the steps that decide layout,
    colour and motion. Parametrization and schedule stay LaVie's; only the batch's weighting changes."""
    snr = ALPHAS_CUMPROD[t] / (1 - ALPHAS_CUMPROD[t])
    return snr.clamp(max=MIN_SNR_GAMMA) / (snr + 1 if v_prediction else snr)


def weighted_mse(pred, target, w):
    return (w * (pred - target).pow(2).mean(dim=(1, 2, 3, 4))).mean()


def noise_video(x0, t, noise):
    a = ALPHAS_CUMPROD[t].view(-1, 1, 1, 1, 1)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


# ------------------------------------------------------------------ phases

class Phase:
    """Owns models, optimizer, EMA and the step loop; subclasses define `loss(step)`."""

    name = ""

    def __init__(self, state, total):
        self.state, self.total = state, total
        self.rng = random.Random(SEED + PHASES.index(self.name))
        self.cfgs = state.cfgs()
        self.models = {n: build(n, self.cfgs) for n in PHASE_MODELS[self.name]}
        blob = state.load_phase(self.name)
        self.step = 0
        if blob is not None:
            for n, m in self.models.items():
                m.load_state_dict(blob["models"][n])
            self.step = blob["step"]
        else:
            self.init_fresh()
        self.emas = {n: copy.deepcopy(m).eval() for n, m in self.models.items()}
        if blob is not None:
            for n, e in self.emas.items():
                e.load_state_dict(blob["ema"][n])
        params = [p for m in self.models.values() for p in m.parameters() if p.requires_grad]
        self.opt = torch.optim.AdamW(params, lr=LR[self.name], weight_decay=0.0)
        if blob is not None and blob.get("opt"):
            self.opt.load_state_dict(blob["opt"])
            self.rng.setstate(blob["rng"])
            torch.set_rng_state(blob["torch_rng"])
        else:
            torch.manual_seed(SEED + PHASES.index(self.name) + self.step)
            self.rng.seed(SEED + self.step)
        for n, m in self.models.items():
            log(f"{self.name}: {n} {params_m(m):.3f} M params")

    def init_fresh(self):
        pass

    def save(self):
        self.state.save_phase(self.name, {
            "step": self.step,
            "models": {n: m.state_dict() for n, m in self.models.items()},
            "ema": {n: m.state_dict() for n, m in self.emas.items()},
            "opt": self.opt.state_dict(), "rng": self.rng.getstate(), "torch_rng": torch.get_rng_state(),
        })

    def finish(self):
        pass

    def run(self, stop):
        losses_path = os.path.join(WORK, "losses.tsv")
        new = not os.path.exists(losses_path)
        lf = open(losses_path, "a")
        if new:
            lf.write("time\tphase\tstep\tloss\ts_per_step\n")
        last_save, window, t_last = time.time(), [], time.time()
        for m in self.models.values():
            m.train()
        while self.step < self.total and not stop["now"]:
            warm = min(1.0, (self.step + 1) / 200)
            for g in self.opt.param_groups:
                g["lr"] = LR[self.name] * warm
            loss = self.loss()
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for g in self.opt.param_groups for p in g["params"]], 1.0)
            self.opt.step()
            for n, m in self.models.items():
                ema_update(self.emas[n], m, self.step)
            self.step += 1
            now = time.time()
            window.append((loss.item(), now - t_last))
            t_last = now
            if self.step % 10 == 0 or self.step == self.total:
                l = sum(w[0] for w in window) / len(window)
                sps = sum(w[1] for w in window) / len(window)
                lf.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')}\t{self.name}\t{self.step}\t{l:.5f}\t{sps:.2f}\n")
                lf.flush()
                log(f"{self.name} step {self.step}/{self.total} loss {l:.4f} {sps:.2f} s/step")
                window = []
            if now - last_save > SAVE_EVERY_S:
                self.save()
                last_save = now
        self.save()
        lf.close()
        if self.step >= self.total:
            self.finish()
            self.save()
            return True
        return False


class VaePhase(Phase):
    """SD-style VAE: L1 + MSE reconstruction + small KL, on single frames of random clips."""

    name = "vae"
    kl_weight = 1e-4

    def frames(self, n):
        out = []
        for _ in range(n):
            clip = D.sample_clip(self.rng)
            out.append(D.render(clip, [self.rng.uniform(0, D.BASE_FRAMES - 1)], C.BASE_H, C.BASE_W)[:, 0])
        return torch.stack(out)

    def loss(self):
        vae = self.models[self.name]
        x = self.frames(BATCH[self.name])
        mean, logvar = vae.encode(x)
        rec = vae.decode(posterior_sample(mean, torch.exp(0.5 * logvar)))
        return (rec - x).abs().mean() + F.mse_loss(rec, x) + self.kl_weight * kl_loss(mean, logvar)

    @torch.no_grad()
    def finish(self):
        """scaling_factor = 1 / std of the latents, as SD chose 0.18215 for its VAE."""
        vae = self.emas[self.name]
        m, s = encode_frames(vae, self.frames(128))
        z = posterior_sample(m.float(), s.float())
        sf = float(1.0 / z.std())
        self.state.p["scaling"][self.name] = sf
        self.state.save()
        log(f"{self.name}: scaling_factor {sf:.5f}")


class X4VaePhase(VaePhase):
    """x4-upscaler-style VAE (4x) on 128x128 crops of 320x512 frames."""

    name = "x4vae"

    def frames(self, n):
        out = []
        H, W, s = C.BASE_H * C.VSR_SCALE, C.BASE_W * C.VSR_SCALE, C.VSR_CROP * C.VSR_SCALE
        for _ in range(n):
            clip = D.sample_clip(self.rng)
            crop = (self.rng.randrange(H - s + 1), self.rng.randrange(W - s + 1), s, s)
            out.append(D.render(clip, [self.rng.uniform(0, D.BASE_FRAMES - 1)], H, W, crop)[:, 0])
        return torch.stack(out)


class BasePhase(Phase):
    """Text encoder + base UNet jointly: ε-prediction, linear betas, caption dropout for CFG."""

    name = "base"

    def __init__(self, state, total):
        super().__init__(state, total)
        self.vae = state.final("vae")
        self.sf = state.cfgs()["vae"]["scaling_factor"]
        self.pool = LatentPool(self.make_clip, int(os.environ.get("LAVIE_NANO_POOL", "512")), 2, self.rng)

    def make_clip(self):
        clip = D.sample_clip(self.rng)
        video = D.render(clip, D.base_times(), C.BASE_H, C.BASE_W)  # [3,F,H,W]
        m, s = encode_frames(self.vae, video.permute(1, 0, 2, 3))
        return m, s, clip["caption"]

    def loss(self):
        items = self.pool.batch(BATCH[self.name])
        # [F,4,h,w] per clip → video [B,4,F,h,w]
        x0 = torch.stack([posterior_sample(m.float(), s.float()).permute(1, 0, 2, 3) for m, s, _ in items]) * self.sf
        ids = caption_ids([c for _, _, c in items], TOK, self.rng)
        text = self.models["text"](ids)
        t = torch.randint(0, 1000, (x0.shape[0],))
        noise = torch.randn_like(x0)
        eps = self.models["base_unet"](noise_video(x0, t, noise), t, text)
        return weighted_mse(eps, noise, min_snr_weight(t))


class InterpPhase(Phase):
    """Interpolation UNet: 61 frames at 4x rate, conditioned on the 16 input frames' latents (LAVIE.md §8.2)."""

    name = "interp"

    def __init__(self, state, total):
        super().__init__(state, total)
        self.vae = state.final("vae")
        self.text = state.final("text")
        for p in self.text.parameters():
            p.requires_grad_(False)
        self.sf = state.cfgs()["vae"]["scaling_factor"]
        self.pool = LatentPool(self.make_clip, int(os.environ.get("LAVIE_NANO_INTERP_POOL", "192")), 1, self.rng)

    def init_fresh(self):
        """Start from the trained base UNet (LaVie starts from SD): extra conv_in channels zero, no RoPE/bias keys."""
        base = self.state.final("base_unet").state_dict()
        m = self.models["interp_unet"]
        sd = m.state_dict()
        for k in sd:
            if k == "conv_in.weight":
                sd[k].zero_()
                sd[k][:, :4] = base[k]
            elif k in base and base[k].shape == sd[k].shape:
                sd[k] = base[k]
        m.load_state_dict(sd)

    def make_clip(self):
        clip = D.sample_clip(self.rng)
        video = D.render(clip, D.interp_times(), C.BASE_H, C.BASE_W)
        m, s = encode_frames(self.vae, video.permute(1, 0, 2, 3))
        return m, s, clip["caption"]

    def loss(self):
        items = self.pool.batch(BATCH[self.name])
        x0 = torch.stack([posterior_sample(m.float(), s.float()).permute(1, 0, 2, 3) for m, s, _ in items]) * self.sf
        # Condition: the samples at input frames 0,4,...,60, each repeated 4x, minus first and last two.
        cond = x0[:, :, 0::4].repeat_interleave(4, dim=2)[:, :, 1:-2]
        with torch.no_grad():
            text = self.text(caption_ids([c + ", 4k." for _, _, c in items], TOK, self.rng))
        t = torch.randint(0, 1000, (x0.shape[0],))
        noise = torch.randn_like(x0)
        eps = self.models["interp_unet"](torch.cat([noise_video(x0, t, noise), cond], dim=1), t, text)
        return weighted_mse(eps, noise, min_snr_weight(t))


class VsrPhase(Phase):
    """VSR UNet + x4 text encoder: v-prediction on x4-VAE latents of 128x128 crops, low-res 32x32
    condition noised by the x4 low-res scheduler at a random level (the level is the class label)."""

    name = "vsr"

    def __init__(self, state, total):
        super().__init__(state, total)
        self.vae = state.final("x4vae")
        self.sf = state.cfgs()["x4vae"]["scaling_factor"]

    def init_fresh(self):
        # The x4 text encoder starts from the base one (same vocabulary; only the activation differs).
        self.models["text_x4"].load_state_dict(self.state.final("text").state_dict())

    def window(self):
        clip = D.sample_clip(self.rng)
        s = C.VSR_CROP * C.VSR_SCALE
        H, W = C.BASE_H * C.VSR_SCALE, C.BASE_W * C.VSR_SCALE
        crop = (self.rng.randrange(0, H - s + 1, 4), self.rng.randrange(0, W - s + 1, 4), s, s)
        step = self.rng.choice([1.0, 0.25])  # base frames or interpolated ones
        t0 = self.rng.uniform(0, D.BASE_FRAMES - 1 - step * (C.VSR_WINDOW - 1))
        hr = D.render(clip, [t0 + i * step for i in range(C.VSR_WINDOW)], H, W, crop)  # [3,F,s,s]
        lr = F.avg_pool2d(hr.permute(1, 0, 2, 3), C.VSR_SCALE).permute(1, 0, 2, 3)
        return hr, lr, clip["caption"]

    def loss(self):
        ws = [self.window() for _ in range(BATCH[self.name])]
        with torch.no_grad():
            z = []
            for hr, _, _ in ws:
                m, s = encode_frames(self.vae, hr.permute(1, 0, 2, 3))
                z.append(posterior_sample(m.float(), s.float()).permute(1, 0, 2, 3))
            x0 = torch.stack(z) * self.sf
        lr = torch.stack([w[1] for w in ws])
        level = torch.tensor([self.rng.choice([self.rng.randrange(MAX_NOISE_LEVEL + 1), 50]) for _ in ws])
        a_lr = LOWRES_ALPHAS_CUMPROD[level].view(-1, 1, 1, 1, 1)
        lr = a_lr.sqrt() * lr + (1 - a_lr).sqrt() * torch.randn_like(lr)
        text = self.models["text_x4"](caption_ids([w[2] for w in ws], TOK_X4, self.rng))
        t = torch.randint(0, 1000, (x0.shape[0],))
        noise = torch.randn_like(x0)
        a = ALPHAS_CUMPROD[t].view(-1, 1, 1, 1, 1)
        v_target = a.sqrt() * noise - (1 - a).sqrt() * x0
        v = self.models["vsr_unet"](noise_video(x0, t, noise), t, text, low_res=lr, class_labels=level)
        return weighted_mse(v, v_target, min_snr_weight(t, v_prediction=True))


PHASE_CLASSES = {"vae": VaePhase, "base": BasePhase, "interp": InterpPhase, "x4vae": X4VaePhase, "vsr": VsrPhase}


# ------------------------------------------------------------------ export (official layouts)

def sd_fp32(m):
    return {k: v.detach().float().contiguous() if v.is_floating_point() else v.contiguous() for k, v in m.state_dict().items()}


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)


def export(state, out=None):
    """Whatever phases are done → lavie_*.pt ({"ema": state_dict}) and diffusers-layout folders."""
    out = out or os.path.join(WORK, "export")
    done = state.p["done"]
    cfgs = state.cfgs()
    sd14 = os.path.join(out, "stable-diffusion-v1-4")
    written = []
    if "vae" in done:
        write_json(os.path.join(sd14, "vae", "config.json"), cfgs["vae"])
        save_file(sd_fp32(state.final("vae")), os.path.join(sd14, "vae", "diffusion_pytorch_model.safetensors"))
        write_dir(os.path.join(sd14, "tokenizer"), VOCAB, MERGES)
        written.append("vae")
    # Partly trained phases are exported too; export.json records the steps behind each file.
    if state.load_phase("base") is not None:
        write_json(os.path.join(sd14, "unet", "config.json"), C.SD_UNET)
        write_json(os.path.join(sd14, "text_encoder", "config.json"), CLIP_CFG)
        save_file(sd_fp32(state.final("text")), os.path.join(sd14, "text_encoder", "model.safetensors"))
        torch.save({"ema": sd_fp32(state.final("base_unet"))}, os.path.join(out, "lavie_base.pt"))
        written.append("base")
    if state.load_phase("interp") is not None:
        torch.save({"ema": sd_fp32(state.final("interp_unet"))}, os.path.join(out, "lavie_interpolation.pt"))
        written.append("interp")
    if state.load_phase("vsr") is not None and "x4vae" in done:
        x4 = os.path.join(out, "stable-diffusion-x4-upscaler")
        write_json(os.path.join(x4, "vae", "config.json"), cfgs["x4vae"])
        save_file(sd_fp32(state.final("x4vae")), os.path.join(x4, "vae", "diffusion_pytorch_model.safetensors"))
        write_json(os.path.join(x4, "text_encoder", "config.json"), CLIP_X4_CFG)
        save_file(sd_fp32(state.final("text_x4")), os.path.join(x4, "text_encoder", "model.safetensors"))
        write_dir(os.path.join(x4, "tokenizer"), VOCAB, MERGES, pad_token="!")
        write_json(os.path.join(out, "vsr_unet_3d_config.json"), C.VSR_UNET)
        torch.save({"ema": sd_fp32(state.final("vsr_unet"))}, os.path.join(out, "lavie_vsr.pt"))
        written.append("vsr")
    steps = {p: (state.load_phase(p) or {}).get("step", 0) for p in PHASES}
    write_json(os.path.join(out, "export.json"), {"done": done, "steps": steps, "written": written,
                                                   "latent": f"{C.LATENT_H}x{C.LATENT_W}", "frames": C.FRAMES})
    log(f"export → {out}: {written} (steps {steps})")
    return written


def write_layout(out, scaling):
    """Configs and tokenizers of the official layouts (no weights) into <out>/layout/, so the bundle
    converts without Python: scripts/ensure-demo-pack.mjs puts the bundle's weights next to them."""
    lay = os.path.join(out, "layout")
    sd14, x4 = os.path.join(lay, "stable-diffusion-v1-4"), os.path.join(lay, "stable-diffusion-x4-upscaler")
    write_json(os.path.join(sd14, "unet", "config.json"), C.SD_UNET)
    write_json(os.path.join(sd14, "vae", "config.json"), dict(C.VAE, scaling_factor=scaling.get("vae", C.VAE["scaling_factor"])))
    write_json(os.path.join(sd14, "text_encoder", "config.json"), CLIP_CFG)
    write_dir(os.path.join(sd14, "tokenizer"), VOCAB, MERGES)
    write_json(os.path.join(x4, "vae", "config.json"), dict(C.X4_VAE, scaling_factor=scaling.get("x4vae", C.X4_VAE["scaling_factor"])))
    write_json(os.path.join(x4, "text_encoder", "config.json"), CLIP_X4_CFG)
    write_dir(os.path.join(x4, "tokenizer"), VOCAB, MERGES, pad_token="!")
    write_json(os.path.join(lay, "vsr_unet_3d_config.json"), C.VSR_UNET)
    # Which bundle file is which official file (ensure-demo-pack.mjs reads this, not our names).
    write_json(os.path.join(lay, "layout.json"), {
        "latent": f"{C.LATENT_H}x{C.LATENT_W}", "frames": C.FRAMES,
        "files": {"vae.safetensors": "stable-diffusion-v1-4/vae/diffusion_pytorch_model.safetensors",
                  "text.safetensors": "stable-diffusion-v1-4/text_encoder/model.safetensors",
                  "base_unet.safetensors": "lavie_base.safetensors",
                  "interp_unet.safetensors": "lavie_interpolation.safetensors",
                  "x4vae.safetensors": "stable-diffusion-x4-upscaler/vae/diffusion_pytorch_model.safetensors",
                  "text_x4.safetensors": "stable-diffusion-x4-upscaler/text_encoder/model.safetensors",
                  "vsr_unet.safetensors": "lavie_vsr.safetensors"}})


def snapshot(state, out=BUNDLE):
    """fp16 weights of every phase with a checkpoint (EMA for finished phases, raw for the running one)."""
    os.makedirs(out, exist_ok=True)
    info = {"done": state.p["done"], "scaling": state.p["scaling"], "phases": {},
            "note": "fp16 resume bundle of LaVie-nano; no optimizer state (AdamW restarts on resume)"}
    for phase in PHASES:
        blob = state.load_phase(phase)
        if blob is None:
            continue
        info["phases"][phase] = {"step": blob["step"]}
        for name in PHASE_MODELS[phase]:
            sd = blob["ema"][name] if phase in state.p["done"] else blob["models"][name]
            save_file({k: v.half() if v.is_floating_point() else v for k, v in sd.items()}, os.path.join(out, f"{name}.safetensors"))
    write_json(os.path.join(out, "state.json"), info)
    write_layout(out, state.p["scaling"])
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    log(f"snapshot → {out}: {list(info['phases'])} ({total / 1e6:.1f} MB)")


# ------------------------------------------------------------------ main

def main(argv):
    torch.set_num_threads(int(os.environ.get("LAVIE_THREADS", "2")))
    if argv and argv[0] == "layout":  # configs + tokenizers for an existing bundle (no checkpoint needed)
        out = argv[1] if len(argv) > 1 else BUNDLE
        with open(os.path.join(out, "state.json")) as f:
            write_layout(out, json.load(f)["scaling"])
        return 0
    state = State()
    if argv and argv[0] == "export":
        export(state, argv[1] if len(argv) > 1 else None)
        return 0
    if argv and argv[0] == "snapshot":
        snapshot(state, argv[1] if len(argv) > 1 else BUNDLE)
        return 0
    stop = {"now": False}

    def on_signal(signum, _frame):
        log(f"signal {signum}: saving and stopping after this step")
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    plan = steps_plan()
    log(f"work dir {WORK}; plan {plan}; done {state.p['done']}")
    for phase in PHASES:
        if phase in state.p["done"]:
            continue
        ph = PHASE_CLASSES[phase](state, plan[phase])
        if not ph.run(stop):
            log(f"{phase}: stopped at step {ph.step}")
            return 0
        state.p["done"].append(phase)
        state.save()
        export(state)
        log(f"{phase}: done ({ph.step} steps)")
    log("all phases done")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
