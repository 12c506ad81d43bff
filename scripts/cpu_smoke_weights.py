"""Randomly initialised TripoSR weights of the right shapes, in the caches where a reconbench run looks for them.

Run by scripts/cpu_smoke_upstream.sh with the interpreter of TripoSR's own environment (it imports TripoSR's
`tsr` package from the checkout). No real weights can be had on the machine this was written on: the point is
to run everything around the model (argv, environment, output discovery and conversion, stage markers).

Writes, under the Hugging Face hub cache layout (`<hub>/models--org--name/{refs/main,snapshots/<commit>/file}`):
- facebook/dino-vitb16 config.json: the ViT-B/16 shapes (hidden 768, 12 layers, 12 heads, MLP 3072, patch 16);
- stabilityai/TripoSR config.yaml: the model's configuration (values as published with the weights; this copy is
  transcribed, not downloaded) and model.ckpt: the state dict of `TSR(config)` built with torch.manual_seed(0),
  except one number: the bias of the decoder's density output, set so that a small share of the marching-cubes grid
  lies above TripoSR's density threshold (25) for the given input; with the default initialisation no point does and
  the mesh would be empty;
and U2-Net's file for rembg (`<weights>/u2net/u2net.onnx`): a one-node ONNX graph (rembg opens it at start; an
RGBA input with transparency never runs it), when the `onnx` package is importable.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

FAKE_COMMIT = "0000000000000000000000000000000000000001"  # a snapshot name; nothing is downloaded

DINO_VITB16 = {
    "architectures": ["ViTModel"],
    "model_type": "vit",
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
    "initializer_range": 0.02,
    "layer_norm_eps": 1e-12,
    "image_size": 224,
    "patch_size": 16,
    "num_channels": 3,
    "qkv_bias": True,
}

TRIPOSR_CONFIG = """\
cond_image_size: 512
image_tokenizer_cls: tsr.models.tokenizers.image.DINOSingleImageTokenizer
image_tokenizer:
  pretrained_model_name_or_path: facebook/dino-vitb16
tokenizer_cls: tsr.models.tokenizers.triplane.Triplane1DTokenizer
tokenizer:
  plane_size: 32
  num_channels: 1024
backbone_cls: tsr.models.transformer.transformer_1d.Transformer1D
backbone:
  in_channels: ${tokenizer.num_channels}
  num_attention_heads: 16
  attention_head_dim: 64
  num_layers: 16
  cross_attention_dim: 768
post_processor_cls: tsr.models.network_utils.TriplaneUpsampleNetwork
post_processor:
  in_channels: 1024
  out_channels: 40
decoder_cls: tsr.models.network_utils.NeRFMLP
decoder:
  in_channels: 120
  n_neurons: 64
  n_hidden_layers: 9
  activation: silu
renderer_cls: tsr.models.nerf_renderer.TriplaneNeRFRenderer
renderer:
  radius: 0.87
  feature_reduction: concat
  density_activation: exp
  density_bias: -1.0
  num_samples_per_ray: 128
"""


def snapshot(hub: Path, repo_id: str) -> Path:
    folder = hub / f"models--{repo_id.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    (folder / "refs" / "main").write_text(FAKE_COMMIT)
    path = folder / "snapshots" / FAKE_COMMIT
    path.mkdir(parents=True, exist_ok=True)
    return path


def u2net_stub(path: Path) -> bool:
    try:
        import onnx
        from onnx import TensorProto, helper
    except ImportError:
        return False
    x = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, 320, 320])
    y = helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 3, 320, 320])
    graph = helper.make_graph([helper.make_node("Sigmoid", ["input.1"], ["out"])], "u2net_stub", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
    model.ir_version = 7  # onnxruntime 1.16 reads IR <= 9
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return True


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repo", required=True, help="TripoSR checkout (imports tsr from it)")
    p.add_argument("--hub", required=True, help="Hugging Face hub cache folder (HF_HUB_CACHE)")
    p.add_argument("--weights", required=True, help="$RECONBENCH_CACHE/weights")
    p.add_argument(
        "--image", required=True, help="an RGBA input like the ones the run will use (sets the density bias)"
    )
    p.add_argument("--inside", type=float, default=0.02, help="share of the grid to put above the density threshold")
    args = p.parse_args()
    hub = Path(args.hub)
    onnx_path = Path(args.weights) / "u2net" / "u2net.onnx"
    if not u2net_stub(onnx_path):
        print("the onnx package is not importable: cannot write the U2-Net stub", file=sys.stderr)
        return 1
    print(f"wrote {onnx_path} (stub graph)")
    (snapshot(hub, "facebook/dino-vitb16") / "config.json").write_text(json.dumps(DINO_VITB16, indent=1))
    tsr_dir = snapshot(hub, "stabilityai/TripoSR")
    (tsr_dir / "config.yaml").write_text(TRIPOSR_CONFIG)

    import numpy as np
    import torch
    from omegaconf import OmegaConf
    from PIL import Image

    sys.path.insert(0, args.repo)
    from tsr.system import TSR
    from tsr.utils import remove_background, resize_foreground

    torch.manual_seed(0)
    cfg = OmegaConf.create(TRIPOSR_CONFIG)
    OmegaConf.resolve(cfg)
    model = TSR(cfg).eval()
    # The input as run.py prepares it (RGBA with transparency: no matting), then the density over a coarse grid.
    image = resize_foreground(remove_background(Image.open(args.image), None), 0.85)
    a = np.asarray(image).astype(np.float32) / 255.0
    image = Image.fromarray(((a[:, :, :3] * a[:, :, 3:4] + (1 - a[:, :, 3:4]) * 0.5) * 255).astype(np.uint8))
    with torch.no_grad():
        codes = model([image], device="cpu")
        r = model.renderer.cfg.radius
        axis = torch.linspace(-r, r, 48)
        grid = torch.stack(torch.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
        raw = model.renderer.query_triplane(model.decoder, grid, codes[0])["density"].flatten()
        # density_act = exp(raw + bias_cfg) must exceed 25 on the chosen share: shift the raw output by a constant.
        target = math.log(25.0) - model.renderer.cfg.density_bias
        shift = target - torch.quantile(raw, 1 - args.inside).item()
        model.decoder.layers[-1].bias[0] += shift
    torch.save(model.state_dict(), tsr_dir / "model.ckpt")
    print(
        f"wrote {tsr_dir / 'model.ckpt'} ({sum(v.numel() for v in model.state_dict().values()) / 1e6:.0f} M values; "
        f"density bias shifted by {shift:+.3f}) and {hub}/models--facebook--dino-vitb16"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
