"""Load the official tiny fixtures into our PyTorch modules (strict key match) and compare outputs.

    /usr/bin/python3 training/check_fixtures.py [net ...]

Tolerance (fixtures README): max|ours - ref| <= 1e-4 * max(1, max|ref|) on every checked tensor.
Each network runs in float64 (the verdict) and float32 (reported). float64 is the verdict because a
few tiny-fixture GroupNorms normalise groups of 2 values whose variance is ~eps, where float32
rounding of the moments differs between torch builds (Debian's 1.13 vs the generator's); float64
removes that build dependence, so a remaining difference is a structural one.
Exit status 1 if any check fails.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nano.clip_text import CLIPTextModel  # noqa: E402
from nano.safetensors_io import load_file  # noqa: E402
from nano.unet3d import UNet3D  # noqa: E402
from nano.vae import AutoencoderKL  # noqa: E402

ROOT = os.environ.get("LAVIE_FIXTURES", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "fixtures", "lavie-tiny"))


def fixture(name):
    d = os.path.join(ROOT, name)
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    inputs = {k: cast(v) for k, v in load_file(os.path.join(d, "inputs.safetensors")).items()}
    return cfg, load_file(os.path.join(d, "weights.safetensors")), inputs, load_file(os.path.join(d, "outputs.safetensors"))


def strict_load(model, weights):
    sd = model.state_dict()
    missing, extra = sorted(set(sd) - set(weights)), sorted(set(weights) - set(sd))
    bad = [k for k in sd if k in weights and tuple(sd[k].shape) != tuple(weights[k].shape)]
    if missing or extra or bad:
        raise AssertionError(f"keys: missing {missing[:5]} extra {extra[:5]} shape {bad[:5]}")
    model.load_state_dict(weights, strict=True)
    model.to(DTYPE)
    return len(sd)


DTYPE = torch.float64


def cast(t):
    return t.to(DTYPE) if t.is_floating_point() else t


def compare(label, ours, ref):
    diff = (ours.double() - ref.double()).abs().max().item()
    tol = 1e-4 * max(1.0, ref.abs().max().item())
    ok = diff <= tol
    print(f"  {label:22s} {str(DTYPE)[6:]:8s} max|diff| {diff:.3e}  tol {tol:.3e}  {'ok' if ok else 'FAIL'}")
    return ok


def check_vae(name):
    cfg, w, i, o = fixture(name)
    m = AutoencoderKL(cfg).eval()
    n = strict_load(m, w)
    print(f"{name}: {n} keys, strict load ok")
    with torch.no_grad():
        mean, logvar = m.encode(i["image"])
        std = torch.exp(0.5 * logvar)
        ok = compare("latent_mean", mean, o["latent_mean"])
        ok &= compare("latent_logvar", logvar, o["latent_logvar"])
        ok &= compare("latent_sample", mean + std * i["sample_noise"], o["latent_sample"])
        ok &= compare("decoded", m.decode(i["latent"]), o["decoded"])
    return ok


def check_clip(name):
    cfg, w, i, o = fixture(name)
    m = CLIPTextModel(cfg).eval()
    n = strict_load(m, w)
    print(f"{name}: {n} keys, strict load ok")
    with torch.no_grad():
        return compare("last_hidden_state", m(i["input_ids"]), o["last_hidden_state"])


def check_unet(name, kind):
    cfg, w, i, o = fixture(name)
    m = UNet3D(cfg, kind).eval()
    n = strict_load(m, w)
    print(f"{name}: {n} keys, strict load ok")
    with torch.no_grad():
        if kind == "vsr":
            out = m(i["sample"], i["timestep"], i["encoder_hidden_states"], low_res=i["low_res"], class_labels=i["noise_level"])
        else:
            out = m(i["sample"], i["timestep"], i["encoder_hidden_states"])
        return compare("out", out, o["out"])


CHECKS = {
    "sd_vae": lambda: check_vae("sd_vae"),
    "clip_text": lambda: check_clip("clip_text"),
    "base_unet": lambda: check_unet("base_unet", "base"),
    "interp_unet": lambda: check_unet("interp_unet", "interp"),
    "vsr_unet": lambda: check_unet("vsr_unet", "vsr"),
    "vsr_vae": lambda: check_vae("vsr_vae"),
    "clip_text_x4": lambda: check_clip("clip_text_x4"),
}


def main(names):
    global DTYPE
    torch.set_num_threads(int(os.environ.get("LAVIE_THREADS", "1")))
    results = {}
    for n in names or list(CHECKS) + ["clip_tokenizer"]:
        if n == "clip_tokenizer":
            from nano.tokenizer import check_tokenizer_fixture

            results[n] = check_tokenizer_fixture(os.path.join(ROOT, "clip_tokenizer"))
            continue
        try:
            DTYPE = torch.float32
            CHECKS[n]()
            DTYPE = torch.float64
            results[n] = CHECKS[n]()
        except AssertionError as e:
            print(f"{n}: FAIL {e}")
            results[n] = False
    print("summary:", ", ".join(f"{k} {'ok' if v else 'FAIL'}" for k, v in results.items()))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
