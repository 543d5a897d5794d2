"""LaVie's three UNets in PyTorch with the official module paths (LAVIE.md §2-§5).

* base  — UNet3DConditionModel of base/ (RoPE + relative-position temporal attention after attn2)
* interp — the same tree with 8 input channels, sparse-causal attn1 and FF before a position-free
  temporal attention (interpolation/)
* vsr   — UNet3DVSRModel of vsr/ (x4-upscaler layout, low-res concat, noise-level class embedding,
  temporal conv resnets, TemporalModule3D after every block)

Written from the spec, not from the official code; `training/check_fixtures.py` proves the keys
and the numbers against the official fixtures. Video tensors are [B, C, F, H, W].
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

ROPE_DIM = 32


# ---------------------------------------------------------------- shared pieces

def timestep_features(t, channels, flip_sin_to_cos=True, freq_shift=0):
    """diffusers Timesteps: [cos | sin] (flipped) of t * exp(-ln(10000) k / (half - shift))."""
    half = channels // 2
    k = torch.arange(half, dtype=torch.float32)
    freqs = torch.exp(-math.log(10000) * k / (half - freq_shift))
    arg = t.float()[:, None] * freqs[None]
    s, c = torch.sin(arg), torch.cos(arg)
    return torch.cat([c, s] if flip_sin_to_cos else [s, c], dim=-1)


class TimestepEmbedding(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.linear_1 = nn.Linear(cin, cout)
        self.linear_2 = nn.Linear(cout, cout)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


def frames_to_batch(x):
    b, c, f, h, w = x.shape
    return x.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w)


def batch_to_frames(x, f):
    bf, c, h, w = x.shape
    return x.reshape(bf // f, f, c, h, w).permute(0, 2, 1, 3, 4)


class InflatedConv3d(nn.Conv2d):
    """A Conv2d applied to every frame of a video (weights [Cout, Cin, k, k])."""

    def forward(self, x):
        return batch_to_frames(super().forward(frames_to_batch(x)), x.shape[2])


class ResnetBlock3D(nn.Module):
    """GroupNorm over all frames (5-D), per-frame 3x3 convs, time embedding per channel (§2.4)."""

    def __init__(self, cin, cout, temb, groups, eps):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=eps)
        self.conv1 = InflatedConv3d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=eps)
        self.conv2 = InflatedConv3d(cout, cout, 3, padding=1)
        self.conv_shortcut = InflatedConv3d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.conv_shortcut(x) if self.conv_shortcut is not None else x) + h


class ResnetBlock3DCNN(nn.Module):
    """VSR temporal resnet: GroupNorm(32, eps 1e-6) over frames, Conv3d (k,1,1) in time (§5.4)."""

    def __init__(self, c, k, temb=None):
        super().__init__()
        self.norm1 = nn.GroupNorm(32, c, eps=1e-6)
        self.conv1 = nn.Conv3d(c, c, (k, 1, 1), padding=((k - 1) // 2, 0, 0))
        self.time_emb_proj = nn.Linear(temb, c) if temb else None
        self.norm2 = nn.GroupNorm(32, c, eps=1e-6)
        self.conv2 = nn.Conv3d(c, c, (3, 1, 1), padding=(1, 0, 0))

    def forward(self, x, temb=None):
        h = self.conv1(F.silu(self.norm1(x)))
        if self.time_emb_proj is not None:
            h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None, None]
        return x + self.conv2(F.silu(self.norm2(h)))


class Downsample3D(nn.Module):
    def __init__(self, c, padding):
        super().__init__()
        self.conv = InflatedConv3d(c, c, 3, stride=2, padding=padding)

    def forward(self, x):
        return self.conv(x)


class Upsample3D(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = InflatedConv3d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=(1.0, 2.0, 2.0), mode="nearest"))


def split_heads(x, h):
    n, s, c = x.shape
    return x.reshape(n, s, h, c // h).transpose(1, 2)


def merge_heads(x):
    n, h, s, d = x.shape
    return x.transpose(1, 2).reshape(n, s, h * d)


class CrossAttention(nn.Module):
    """to_q/k/v without bias, to_out.0 with bias, scale d^-0.5 (§2.6)."""

    def __init__(self, dim, heads, context_dim=None):
        super().__init__()
        self.heads = heads
        cd = context_dim or dim
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(cd, dim, bias=False)
        self.to_v = nn.Linear(cd, dim, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim), nn.Dropout(0.0)])

    def attend(self, q, k, v, bias=None):
        h = self.heads
        q, k, v = split_heads(q, h), split_heads(k, h), split_heads(v, h)
        s = (q * (q.shape[-1] ** -0.5)) @ k.transpose(-1, -2)
        if bias is not None:
            s = s + bias
        return self.to_out[0](merge_heads(torch.softmax(s, dim=-1) @ v))

    def forward(self, x, context=None):
        ctx = x if context is None else context
        return self.attend(self.to_q(x), self.to_k(ctx), self.to_v(ctx))


class SparseCausalAttention(CrossAttention):
    """Interpolation attn1 (§2.10): frame f attends to frames 0 and max(f-1, 0)."""

    def forward(self, x, frames):
        bf, s, c = x.shape
        b = bf // frames
        q = self.to_q(x)

        def gather(t):
            t = t.reshape(b, frames, s, c)
            prev = torch.cat([t[:, :1], t[:, :-1]], dim=1)
            return torch.cat([t[:, :1].expand(b, frames, s, c), prev], dim=2).reshape(bf, 2 * s, c)

        return self.attend(q, gather(self.to_k(x)), gather(self.to_v(x)))


class RotaryEmbedding(nn.Module):
    """rotary_embedding_torch 0.3.0 RotaryEmbedding(32): `freqs` = 10000^(-2i/32), frozen."""

    def __init__(self, dim=ROPE_DIM):
        super().__init__()
        self.freqs = nn.Parameter(1.0 / (10000 ** (torch.arange(0, dim, 2)[: dim // 2].float() / dim)), requires_grad=False)

    def rotate(self, t):
        """t [..., F, d]: rotate interleaved pairs of the first 32 channels by frame position."""
        f = t.shape[-2]
        ang = torch.arange(f, dtype=self.freqs.dtype)[:, None] * self.freqs[None]
        ang = ang.repeat_interleave(2, dim=-1).to(t.dtype)
        r, rest = t[..., :ROPE_DIM], t[..., ROPE_DIM:]
        pairs = r.reshape(*r.shape[:-1], ROPE_DIM // 2, 2)
        swapped = torch.stack([-pairs[..., 1], pairs[..., 0]], dim=-1).reshape(r.shape)
        return torch.cat([r * ang.cos() + swapped * ang.sin(), rest], dim=-1)


def rel_pos_bucket(n, num_buckets=32, max_distance=32):
    """T5 bucket of n = i - j (query i, key j), as LaVie's RelativePositionBias computes it."""
    half = num_buckets // 2
    ret = half if n < 0 else 0
    a = abs(n)
    max_exact = half // 2
    if a < max_exact:
        return ret + a
    large = max_exact + int(
        torch.tensor(math.log(a / max_exact), dtype=torch.float32) / math.log(max_distance / max_exact) * (half - max_exact)
    )
    return ret + min(large, half - 1)


class RelativePositionBias(nn.Module):
    def __init__(self, heads, num_buckets=32):
        super().__init__()
        self.relative_attention_bias = nn.Embedding(num_buckets, heads)
        self._cache = {}

    def forward(self, f):
        if f not in self._cache:
            self._cache[f] = torch.tensor([[rel_pos_bucket(i - j) for j in range(f)] for i in range(f)])
        return self.relative_attention_bias(self._cache[f]).permute(2, 0, 1)  # [h, F, F]


class TemporalAttention(CrossAttention):
    """Base/VSR temporal attention (§2.9): q pre-scaled, RoPE on q and k, learned T5 bias."""

    def __init__(self, dim, heads, rotary_emb):
        super().__init__(dim, heads)
        self.rotary_emb = rotary_emb
        self.time_rel_pos_bias = RelativePositionBias(heads)

    def forward(self, x):
        h = self.heads
        q = split_heads(self.to_q(x), h)
        q = q * q.shape[-1] ** -0.5
        k, v = split_heads(self.to_k(x), h), split_heads(self.to_v(x), h)
        q, k = self.rotary_emb.rotate(q), self.rotary_emb.rotate(k)
        s = q @ k.transpose(-1, -2) + self.time_rel_pos_bias(x.shape[1])
        s = s - s.amax(dim=-1, keepdim=True).detach()
        return self.to_out[0](merge_heads(torch.softmax(s, dim=-1) @ v))


class GEGLU(nn.Module):
    def __init__(self, dim, inner):
        super().__init__()
        self.proj = nn.Linear(dim, 2 * inner)

    def forward(self, x):
        hidden, gate = self.proj(x).chunk(2, dim=-1)
        return hidden * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.net = nn.ModuleList([GEGLU(dim, 4 * dim), nn.Dropout(0.0), nn.Linear(4 * dim, dim)])

    def forward(self, x):
        return self.net[2](self.net[0](x))


class BasicTransformerBlock(nn.Module):
    """kind 'base' / 'vsr': attn1, attn2, temporal, FF; 'interp': attn1 (sparse-causal), attn2, FF, temporal."""

    def __init__(self, dim, heads, context_dim, kind, rotary_emb=None, only_cross=False):
        super().__init__()
        self.kind = kind
        self.only_cross = only_cross
        if kind == "interp":
            self.attn1 = SparseCausalAttention(dim, heads)
        else:
            self.attn1 = CrossAttention(dim, heads, context_dim if only_cross else None)
        self.norm1 = nn.LayerNorm(dim)
        self.attn2 = CrossAttention(dim, heads, context_dim)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim)
        self.norm3 = nn.LayerNorm(dim)
        if kind == "base":
            self.attn_temp = TemporalAttention(dim, heads, rotary_emb)
            self.norm_temp = nn.LayerNorm(dim)
        elif kind == "interp":
            self.attn_temp = CrossAttention(dim, heads)
            self.norm_temp = nn.LayerNorm(dim)
        else:
            self.attn_temporal = TemporalAttention(dim, heads, rotary_emb)
            self.norm_temporal = nn.LayerNorm(dim)

    def temporal(self, x, frames):
        bf, s, c = x.shape
        b = bf // frames
        t = x.reshape(b, frames, s, c).transpose(1, 2).reshape(b * s, frames, c)
        if self.kind == "vsr":
            t = t + self.attn_temporal(self.norm_temporal(t))
        else:
            t = t + self.attn_temp(self.norm_temp(t))
        return t.reshape(b, s, frames, c).transpose(1, 2).reshape(bf, s, c)

    def forward(self, x, text, frames):
        n1 = self.norm1(x)
        if self.kind == "interp":
            x = x + self.attn1(n1, frames)
        else:
            x = x + self.attn1(n1, text if self.only_cross else None)
        x = x + self.attn2(self.norm2(x), text)
        if self.kind == "interp":
            x = x + self.ff(self.norm3(x))
            return self.temporal(x, frames)
        x = self.temporal(x, frames)
        return x + self.ff(self.norm3(x))


class Transformer3DModel(nn.Module):
    """One attention slot (§2.7): per-frame GroupNorm, proj_in, one block, proj_out, residual."""

    def __init__(self, dim, heads, context_dim, groups, kind, rotary_emb=None, only_cross=False):
        super().__init__()
        self.kind = kind
        if kind == "vsr":
            self.resblock_temporal = ResnetBlock3DCNN(dim, 3)
        self.norm = nn.GroupNorm(groups, dim, eps=1e-6)
        linear = kind == "vsr"
        self.proj_in = nn.Linear(dim, dim) if linear else nn.Conv2d(dim, dim, 1)
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(dim, heads, context_dim, kind, rotary_emb, only_cross)])
        self.proj_out = nn.Linear(dim, dim) if linear else nn.Conv2d(dim, dim, 1)

    def forward(self, x, text):
        b, c, f, h, w = x.shape
        if self.kind == "vsr":
            x = self.resblock_temporal(x)
        res = frames_to_batch(x)
        t = self.norm(res)
        if self.kind == "vsr":
            t = self.proj_in(t.reshape(b * f, c, h * w).transpose(1, 2))
        else:
            t = self.proj_in(t).reshape(b * f, c, h * w).transpose(1, 2)
        text_pf = text.repeat_interleave(f, dim=0)
        t = self.transformer_blocks[0](t, text_pf, f)
        if self.kind == "vsr":
            t = self.proj_out(t).transpose(1, 2).reshape(b * f, c, h, w)
        else:
            t = self.proj_out(t.transpose(1, 2).reshape(b * f, c, h, w))
        return batch_to_frames(t + res, f)


class TemporalModule3D(nn.Module):
    """VSR TemporalModule3D without attention (§5.4): x + shift_conv(res_s(res_t(x)))."""

    def __init__(self, c, temb):
        super().__init__()
        self.resblocks_3d_t = ResnetBlock3DCNN(c, 5, temb)
        self.resblocks_3d_s = ResnetBlock3D(c, c, temb, 32, 1e-6)
        self.shift_conv = InflatedConv3d(c, c, 1)

    def forward(self, x, temb):
        return x + self.shift_conv(self.resblocks_3d_s(self.resblocks_3d_t(x, temb), temb))


# ---------------------------------------------------------------- blocks and UNet

class DownBlock(nn.Module):
    def __init__(self, cin, cout, layers, temb, groups, eps, attn, down, pad):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock3D(cin if j == 0 else cout, cout, temb, groups, eps) for j in range(layers)])
        if attn is not None:
            self.attentions = nn.ModuleList([attn() for _ in range(layers)])
        self.has_attn = attn is not None
        if down:
            self.downsamplers = nn.ModuleList([Downsample3D(cout, pad)])
        self.has_down = down

    def forward(self, x, temb, text):
        skips = []
        for j, r in enumerate(self.resnets):
            x = r(x, temb)
            if self.has_attn:
                x = self.attentions[j](x, text)
            skips.append(x)
        if self.has_down:
            x = self.downsamplers[0](x)
            skips.append(x)
        return x, skips


class UpBlock(nn.Module):
    def __init__(self, prev, cout, skip_in, layers, temb, groups, eps, attn, up):
        super().__init__()
        self.resnets = nn.ModuleList(
            [ResnetBlock3D((prev if j == 0 else cout) + (skip_in if j == layers - 1 else cout), cout, temb, groups, eps) for j in range(layers)]
        )
        if attn is not None:
            self.attentions = nn.ModuleList([attn() for _ in range(layers)])
        self.has_attn = attn is not None
        if up:
            self.upsamplers = nn.ModuleList([Upsample3D(cout)])
        self.has_up = up

    def forward(self, x, skips, temb, text):
        for j, r in enumerate(self.resnets):
            x = r(torch.cat([x, skips.pop()], dim=1), temb)
            if self.has_attn:
                x = self.attentions[j](x, text)
        return self.upsamplers[0](x) if self.has_up else x


class MidBlock(nn.Module):
    def __init__(self, c, temb, groups, eps, attn):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock3D(c, c, temb, groups, eps) for _ in range(2)])
        self.attentions = nn.ModuleList([attn()])

    def forward(self, x, temb, text):
        return self.resnets[1](self.attentions[0](self.resnets[0](x, temb), text), temb)


class UNet3D(nn.Module):
    """kind = 'base' | 'interp' | 'vsr'; `cfg` = the official constructor config (config.json)."""

    def __init__(self, cfg, kind):
        super().__init__()
        self.config = dict(cfg)
        self.kind = kind
        boc = cfg["block_out_channels"]
        L, groups, eps = cfg["layers_per_block"], cfg["norm_num_groups"], cfg["norm_eps"]
        heads, cdim = cfg["attention_head_dim"], cfg["cross_attention_dim"]
        pad = cfg.get("downsample_padding", 1)
        c0, temb = boc[0], 4 * boc[0]
        n = len(boc)
        only_cross = cfg.get("only_cross_attention", False)
        if not isinstance(only_cross, list):
            only_cross = [only_cross] * n
        # One RoPE module shared by every temporal attention (its constant is written once per owner).
        rope = RotaryEmbedding() if kind in ("base", "vsr") else None
        if kind == "vsr":
            self.temporal_rotary_emb = rope

        def attn_factory(c, oc):
            return lambda: Transformer3DModel(c, heads, cdim, groups, kind, rope, oc)

        self.conv_in = InflatedConv3d(cfg["in_channels"], c0, 3, padding=1)
        self.time_embedding = TimestepEmbedding(c0, temb)
        if kind == "vsr":
            self.class_embedding = nn.Embedding(cfg["num_class_embeds"], temb)

        self.down_blocks = nn.ModuleList()
        cin = c0
        for i, bt in enumerate(cfg["down_block_types"]):
            cout = boc[i]
            attn = attn_factory(cout, only_cross[i]) if bt.startswith("CrossAttn") else None
            self.down_blocks.append(DownBlock(cin, cout, L, temb, groups, eps, attn, i < n - 1, pad))
            cin = cout
        self.mid_block = MidBlock(boc[-1], temb, groups, eps, attn_factory(boc[-1], False))
        rev, rev_cross = list(reversed(boc)), list(reversed(only_cross))
        self.up_blocks = nn.ModuleList()
        prev = rev[0]
        for i, bt in enumerate(cfg["up_block_types"]):
            cout, skip_in = rev[i], rev[min(i + 1, n - 1)]
            attn = attn_factory(cout, rev_cross[i]) if bt.startswith("CrossAttn") else None
            self.up_blocks.append(UpBlock(prev, cout, skip_in, L + 1, temb, groups, eps, attn, i < n - 1))
            prev = cout
        if kind == "vsr":
            self.down_temporal_blocks = nn.ModuleList([TemporalModule3D(boc[i], temb) for i in cfg["down_temporal_idx"]])
            self.mid_temporal_block = TemporalModule3D(boc[-1], temb) if cfg["mid_temporal"] else None
            self.up_temporal_blocks = nn.ModuleList([TemporalModule3D(rev[i], temb) for i in cfg["up_temporal_idx"]])
        self.conv_norm_out = nn.GroupNorm(groups, c0, eps=eps)
        self.conv_out = InflatedConv3d(c0, cfg["out_channels"], 3, padding=1)

    def forward(self, sample, timestep, text, low_res=None, class_labels=None):
        """sample [B,C,F,H,W]; timestep scalar/[1]/[B]; text [B,77,D]; VSR: low_res [B,3,F,H,W], class_labels [B]."""
        cfg = self.config
        b = sample.shape[0]
        t = torch.as_tensor(timestep).reshape(-1).expand(b) if torch.as_tensor(timestep).numel() == 1 else torch.as_tensor(timestep)
        emb = self.time_embedding(timestep_features(t, cfg["block_out_channels"][0], cfg["flip_sin_to_cos"], cfg["freq_shift"]).to(sample.dtype))
        if self.kind == "vsr":
            emb = emb + self.class_embedding(class_labels)
            sample = torch.cat([sample, low_res], dim=1)
        h = self.conv_in(sample)
        skips = [h]
        for i, blk in enumerate(self.down_blocks):
            h, s = blk(h, emb, text)
            skips += s
            if self.kind == "vsr" and i in cfg["down_temporal_idx"]:
                h = self.down_temporal_blocks[cfg["down_temporal_idx"].index(i)](h, emb)
        h = self.mid_block(h, emb, text)
        if self.kind == "vsr" and self.mid_temporal_block is not None:
            h = self.mid_temporal_block(h, emb)
        for i, blk in enumerate(self.up_blocks):
            h = blk(h, skips, emb, text)
            if self.kind == "vsr" and i in cfg["up_temporal_idx"]:
                h = self.up_temporal_blocks[cfg["up_temporal_idx"].index(i)](h, emb)
        return self.conv_out(F.silu(self.conv_norm_out(h)))
