"""Nano-model configs, in the official constructor layouts (what the exported config.json files hold).

Sizing (why these numbers): the machine is 2 CPU cores shared with other work, so every network is
a few million parameters at most and the base stage runs at 80x128 pixels (latent 10x16 with the
8x VAE), LaVie's 5:8 aspect. A 10x16 latent can be halved only once (5x8 is odd), so the base and
interpolation UNets have 2 levels instead of SD's 4 — the converter and graph builders take any
number of levels from unet/config.json. Head dims stay >= 32 because of LaVie's RotaryEmbedding(32).
VSR keeps the x4-upscaler's 4 levels (it runs on 8-divisible crops/tiles) with 32-multiples
(its temporal modules hard-code GroupNorm(32)).
"""
BASE_H, BASE_W, FRAMES = 80, 128, 16
LATENT_H, LATENT_W = 10, 16
VSR_SCALE = 4
VSR_WINDOW = 8
VSR_CROP = 32  # low-res crop side used to train the VSR UNet (hr crop = 128)

VAE = {
    "_class_name": "AutoencoderKL", "in_channels": 3, "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D"] * 4, "up_block_types": ["UpDecoderBlock2D"] * 4,
    "block_out_channels": [32, 32, 64, 64], "layers_per_block": 1, "act_fn": "silu", "latent_channels": 4,
    "norm_num_groups": 16, "sample_size": BASE_W, "scaling_factor": 0.18215,
}

X4_VAE = {
    "_class_name": "AutoencoderKL", "in_channels": 3, "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D"] * 3, "up_block_types": ["UpDecoderBlock2D"] * 3,
    "block_out_channels": [32, 32, 64], "layers_per_block": 1, "act_fn": "silu", "latent_channels": 4,
    "norm_num_groups": 16, "sample_size": 4 * VSR_CROP, "scaling_factor": 0.08333,
}


def clip_text(vocab_size, bos, eos, pad, act):
    return {
        "_class_name": "CLIPTextModel", "architectures": ["CLIPTextModel"], "model_type": "clip_text_model",
        "vocab_size": vocab_size, "hidden_size": 64, "intermediate_size": 256, "projection_dim": 64,
        "num_hidden_layers": 2, "num_attention_heads": 2, "max_position_embeddings": 77, "hidden_act": act,
        "layer_norm_eps": 1e-5, "attention_dropout": 0.0, "dropout": 0.0, "initializer_range": 0.02,
        "initializer_factor": 1.0, "bos_token_id": bos, "eos_token_id": eos, "pad_token_id": pad,
        "torch_dtype": "float32", "transformers_version": "4.28.1",
    }


# SD-1.4-style unet/config.json (2-D names; LaVie's from_pretrained_2d turns them into 3-D blocks).
SD_UNET = {
    "_class_name": "UNet2DConditionModel", "act_fn": "silu", "attention_head_dim": 2,
    "block_out_channels": [64, 96], "center_input_sample": False, "cross_attention_dim": 64,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D"], "downsample_padding": 1,
    "flip_sin_to_cos": True, "freq_shift": 0, "in_channels": 4, "layers_per_block": 1,
    "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 32, "out_channels": 4,
    "sample_size": LATENT_W, "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
}


def unet3d_from_sd(sd, interp=False):
    """What LaVie's UNet3DConditionModel.from_pretrained_2d builds from unet/config.json (LAVIE.md §3.1)."""
    to3d = lambda l: [s.replace("2D", "3D") for s in l]
    cfg = {k: v for k, v in sd.items() if not k.startswith("_")}
    cfg.update(down_block_types=to3d(sd["down_block_types"]), up_block_types=to3d(sd["up_block_types"]),
               mid_block_type="UNetMidBlock3DCrossAttn", use_first_frame=interp, use_relative_position=False)
    if interp:
        cfg["in_channels"] = 8
    return cfg


# vsr/configs/unet_3d_config.json layout (passed to the converter with --vsr-config).
VSR_UNET = {
    "_class_name": "UNet3DVSRModel", "down_temporal_idx": [0, 1, 2, 3], "mid_temporal": True, "up_temporal_idx": [0, 1, 2, 3],
    "video_condition": False,
    "temporal_module_config": {"num_attention_layers": 1, "attention_block_types": ["", ""], "cross_frame_attention_mode": "0_i-1_i",
                               "temporal_shift_fold_div": 2, "temporal_shift_direction": "right", "use_dcn_warpping": False,
                               "use_deformable_conv": True, "attention_dim_div": 2},
    "sample_size": VSR_CROP, "in_channels": 7, "out_channels": 4, "center_input_sample": False, "max_noise_level": 350,
    "flip_sin_to_cos": True, "freq_shift": 0, "attention_head_dim": 1, "block_out_channels": [32, 32, 64, 64],
    "down_block_types": ["DownBlock3D", "CrossAttnDownBlock3D", "CrossAttnDownBlock3D", "CrossAttnDownBlock3D"],
    "mid_block_type": "UNetMidBlock3DCrossAttn",
    "up_block_types": ["CrossAttnUpBlock3D", "CrossAttnUpBlock3D", "CrossAttnUpBlock3D", "UpBlock3D"],
    "only_cross_attention": [True, True, True, False], "layers_per_block": 1, "downsample_padding": 1,
    "mid_block_scale_factor": 1, "act_fn": "silu", "norm_num_groups": 32, "norm_eps": 1e-05, "cross_attention_dim": 64,
    "dual_cross_attention": False, "use_linear_projection": True, "class_embed_type": None, "num_class_embeds": 1000,
    "upcast_attention": False, "resnet_time_scale_shift": "default", "use_first_frame": False, "use_relative_position": False,
}
