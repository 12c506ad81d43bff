"""Score Distillation Sampling (SDS, Poole et al. 2022, "DreamFusion", arXiv:2209.14988), generic math.

A differentiable renderer produces x (an image, or its latent); a frozen diffusion model predicts the
noise in x_t = α_t x + σ_t ε. SDS pushes x along

    ∇_x L_SDS = w(t) · (ε̂(x_t, t) − ε),

the denoising-loss gradient with the U-Net Jacobian dropped (DreamFusion eq. 3). Nothing here knows
about images, cameras or a particular model: `predict_noise(x_t, t)` is any callable, and
`GaussianPrior` is an analytic stand-in whose exact noise predictor lets the tests check the whole
chain against closed forms.

Conventions: timesteps are integers in [0, T) indexing the DDPM schedule (diffusers' convention);
ᾱ_t = Π_{s≤t} (1 − β_s); α_t = sqrt(ᾱ_t), σ_t = sqrt(1 − ᾱ_t) (variance preserving, α² + σ² = 1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

NoisePredictor = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
WEIGHTINGS = ("sigma2", "one")


class NoiseSchedule:
    """DDPM ᾱ_t table; defaults are Stable Diffusion's (and Zero123's): scaled-linear β 0.00085 → 0.012, T = 1000.

    "scaled_linear" spaces sqrt(β) linearly (LDM's "linear", diffusers' "scaled_linear");
    "linear" spaces β itself linearly (the original DDPM).
    """

    def __init__(
        self,
        beta_start: float = 0.00085,
        beta_end: float = 0.012,
        num_train_timesteps: int = 1000,
        beta_schedule: str = "scaled_linear",
    ) -> None:
        if beta_schedule == "scaled_linear":
            betas = torch.linspace(beta_start**0.5, beta_end**0.5, num_train_timesteps, dtype=torch.float64) ** 2
        elif beta_schedule == "linear":
            betas = torch.linspace(beta_start, beta_end, num_train_timesteps, dtype=torch.float64)
        else:
            raise ValueError(f"beta_schedule must be 'scaled_linear' or 'linear', got {beta_schedule!r}")
        self.beta_schedule = beta_schedule
        self.num_train_timesteps = int(num_train_timesteps)
        # float64 so the tests' closed forms are not limited by the table's precision
        self.alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> NoiseSchedule:
        """From a diffusers `scheduler_config.json` (keys beta_start, beta_end, beta_schedule, num_train_timesteps)."""
        if config.get("trained_betas") is not None:
            raise ValueError("explicit trained_betas are not supported")
        return cls(
            beta_start=float(config.get("beta_start", 0.00085)),
            beta_end=float(config.get("beta_end", 0.012)),
            num_train_timesteps=int(config.get("num_train_timesteps", 1000)),
            beta_schedule=str(config.get("beta_schedule", "scaled_linear")),
        )

    def _lookup(self, table: torch.Tensor, t: int | torch.Tensor) -> torch.Tensor:
        t = torch.as_tensor(t, dtype=torch.long)
        if t.numel() and (int(t.min()) < 0 or int(t.max()) >= self.num_train_timesteps):
            raise ValueError(f"timesteps must lie in [0, {self.num_train_timesteps}), got {t.tolist()}")
        return table[t.cpu()]

    def alpha_bar(self, t: int | torch.Tensor) -> torch.Tensor:
        return self._lookup(self.alphas_cumprod, t)

    def alpha(self, t: int | torch.Tensor) -> torch.Tensor:
        """Signal scale α_t = sqrt(ᾱ_t) (float64, shape of t)."""
        return self.alpha_bar(t).sqrt()

    def sigma(self, t: int | torch.Tensor) -> torch.Tensor:
        """Noise scale σ_t = sqrt(1 − ᾱ_t) (float64, shape of t)."""
        return (1.0 - self.alpha_bar(t)).sqrt()

    def add_noise(self, x: torch.Tensor, noise: torch.Tensor, t: int | torch.Tensor) -> torch.Tensor:
        """x_t = α_t x + σ_t ε; a 1-D t gives one timestep per leading (batch) index of x."""
        return per_sample(self.alpha(t), x) * x + per_sample(self.sigma(t), x) * noise


def per_sample(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Scalars or one value per batch item, shaped to broadcast against `like` (on its device and dtype)."""
    values = values.to(device=like.device, dtype=like.dtype)
    if values.ndim == 0:
        return values
    if values.ndim != 1 or values.shape[0] != like.shape[0]:
        raise ValueError(
            f"need a scalar or one timestep per batch item ({like.shape[0]}), got shape {tuple(values.shape)}"
        )
    return values.reshape((-1,) + (1,) * (like.ndim - 1))


def sds_weight(schedule: NoiseSchedule, t: int | torch.Tensor, weighting: str = "sigma2") -> torch.Tensor:
    """w(t). "sigma2": σ_t² = 1 − ᾱ_t (DreamFusion; DreamGaussian and threestudio use it); "one": w = 1."""
    if weighting == "sigma2":
        return 1.0 - schedule.alpha_bar(t)
    if weighting == "one":
        return torch.ones_like(schedule.alpha_bar(t))
    raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")


def timestep_bounds(t_range: tuple[float, float], num_train_timesteps: int) -> tuple[int, int]:
    """Integer [min, max] timesteps of a fractional range, truncated as DreamGaussian does ((0.02, 0.98) → (20,
    980))."""
    lo, hi = int(num_train_timesteps * t_range[0]), int(num_train_timesteps * t_range[1])
    if not 0 <= lo <= hi < num_train_timesteps:
        raise ValueError(f"t_range {t_range} gives an empty or out-of-range timestep interval [{lo}, {hi}]")
    return lo, hi


def annealed_timestep(
    step: int, total_steps: int, t_range: tuple[float, float] = (0.02, 0.98), num_train_timesteps: int = 1000
) -> int:
    """DreamGaussian's linear timestep anneal: t = clip(round((1 − r)·T), t_min, t_max), r = min(1, step/total_steps).

    High noise early (coarse shape), low noise late (detail). With DreamGaussian's 1-based steps and
    the default range, t holds 980 for the first 2 % of the steps, falls linearly, and ends at 20.
    """
    if total_steps <= 0:
        raise ValueError(f"total_steps must be positive, got {total_steps}")
    lo, hi = timestep_bounds(t_range, num_train_timesteps)
    ratio = min(1.0, max(0.0, step / total_steps))
    # round-half-even like DreamGaussian's np.round
    return int(min(max(round((1.0 - ratio) * num_train_timesteps), lo), hi))


def sds_gradient(
    x: torch.Tensor,
    predict_noise: NoisePredictor,
    t: int | torch.Tensor,
    noise: torch.Tensor,
    schedule: NoiseSchedule,
    weighting: str = "sigma2",
) -> torch.Tensor:
    """The SDS gradient w(t)·(ε̂(x_t, t) − ε) at x, with x_t = α_t x + σ_t ε (no graph; at least float32).

    `t` is a scalar or one timestep per batch item (a LongTensor goes to `predict_noise` as is);
    `noise` is the ε used to form x_t, the same draw that is subtracted, which is what keeps the
    estimator's variance low.
    """
    if noise.shape != x.shape:
        raise ValueError(f"noise shape {tuple(noise.shape)} differs from x shape {tuple(x.shape)}")
    work = torch.promote_types(x.dtype, torch.float32)  # fp16 latents: form x_t and the difference in fp32
    t = torch.as_tensor(t, dtype=torch.long, device=x.device)
    with torch.no_grad():
        x0, eps = x.detach().to(work), noise.to(work)
        eps_hat = predict_noise(schedule.add_noise(x0, eps, t), t).to(work)
        return per_sample(sds_weight(schedule, t, weighting), x0) * (eps_hat - eps)


class _SpecifiedGradient(torch.autograd.Function):
    """Value 0.5·‖grad‖², gradient w.r.t. x exactly `grad` (times the incoming gradient)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        ctx.x_dtype = x.dtype
        ctx.save_for_backward(grad)
        work = torch.promote_types(grad.dtype, torch.float32)
        return 0.5 * grad.to(work).pow(2).sum()

    @staticmethod
    def backward(ctx: Any, upstream: torch.Tensor) -> tuple[torch.Tensor, None]:
        (grad,) = ctx.saved_tensors
        return (upstream * grad).to(ctx.x_dtype), None


def sds_loss(x: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """Scalar surrogate whose gradient w.r.t. x is `grad`: 0.5·Σ(x − (x − grad).detach())², summed (not averaged).

    Same value and gradient as the `0.5 * F.mse_loss(x, (x - grad).detach(), reduction="sum")`
    trick of DreamGaussian/threestudio, but the gradient is `grad` bit for bit: the trick returns
    x − (x − grad), which rounds in floating point. The value (0.5‖grad‖²) is for logging only.
    """
    if grad.shape != x.shape:
        raise ValueError(f"grad shape {tuple(grad.shape)} differs from x shape {tuple(x.shape)}")
    return _SpecifiedGradient.apply(x, grad.detach())


class GaussianPrior:
    """Data distribution N(μ, s²I) with its exact (MMSE) noise predictor: an analytic prior for testing SDS.

    Forward process x_t = α x₀ + σ ε (α = α_t, σ = σ_t, ε ~ N(0, I)), so x_t ~ N(α μ, (α² s² + σ²) I).
    Gaussian conditioning gives the posterior mean of the clean sample

        x̂₀(x_t) = E[x₀ | x_t] = μ + k (x_t − α μ),   k = α s² / (α² s² + σ²),

    and the optimal noise predictor E[ε | x_t] = (x_t − α x̂₀)/σ. Since 1 − α k = σ²/(α² s² + σ²),

        ε̂(x_t, t) = σ (x_t − α μ) / (α² s² + σ²).

    SDS evaluates it at x_t = α x + σ ε for a fixed x (the "render"):

        ε̂ − ε = α σ (x − μ)/(α² s² + σ²) + (σ²/(α² s² + σ²) − 1) ε
              = α σ (x − μ)/(α² s² + σ²) − α² s²/(α² s² + σ²) · ε,

    hence E_ε[ε̂ − ε] = α σ (x − μ)/(α² s² + σ²). Gradient descent x ← x − lr·w(t)·E[ε̂ − ε] is the
    linear contraction x − μ ← (1 − lr·ρ)(x − μ) with rate ρ(t) = w(t)·α σ/(α² s² + σ²): x moves to
    the prior's mode μ (for 0 < lr·ρ < 2) and stops there, and nowhere else, since the expected
    gradient vanishes only at μ. A single-sample step adds zero-mean noise of per-element std
    lr·w(t)·α² s²/(α² s² + σ²), so the mean of the iterates follows the same geometric law.
    """

    def __init__(self, mean: torch.Tensor | float, std: float) -> None:
        if std <= 0:
            raise ValueError(f"std must be positive, got {std}")
        self.mean = torch.as_tensor(mean, dtype=torch.float64)
        self.std = float(std)

    def _terms(self, t: int | torch.Tensor, schedule: NoiseSchedule, like: torch.Tensor) -> tuple[torch.Tensor, ...]:
        a, s = per_sample(schedule.alpha(t), like), per_sample(schedule.sigma(t), like)
        return a, s, a * a * self.std**2 + s * s, self.mean.to(device=like.device, dtype=like.dtype)

    def predict_noise(self, x_t: torch.Tensor, t: int | torch.Tensor, schedule: NoiseSchedule) -> torch.Tensor:
        """ε̂(x_t, t) = σ (x_t − α μ)/(α² s² + σ²), the exact E[ε | x_t]."""
        a, s, var, mu = self._terms(t, schedule, x_t)
        return s * (x_t - a * mu) / var

    def noise_predictor(self, schedule: NoiseSchedule) -> NoisePredictor:
        """`predict_noise` bound to a schedule, in the `sds_gradient` signature."""
        return lambda x_t, t: self.predict_noise(x_t, t, schedule)

    def sds_rate(self, t: int | torch.Tensor, schedule: NoiseSchedule, weighting: str = "sigma2") -> torch.Tensor:
        """ρ(t) = w(t)·α σ/(α² s² + σ²): the expected SDS gradient per unit of (x − μ)."""
        a, s = schedule.alpha(t), schedule.sigma(t)
        return sds_weight(schedule, t, weighting) * a * s / (a * a * self.std**2 + s * s)

    def expected_sds_gradient(
        self, x: torch.Tensor, t: int | torch.Tensor, schedule: NoiseSchedule, weighting: str = "sigma2"
    ) -> torch.Tensor:
        """E_ε[w(t)(ε̂ − ε)] = ρ(t)(x − μ)."""
        mu = self.mean.to(device=x.device, dtype=x.dtype)
        return per_sample(self.sds_rate(t, schedule, weighting), x) * (x - mu)

    def sds_noise_std(self, t: int | torch.Tensor, schedule: NoiseSchedule, weighting: str = "sigma2") -> torch.Tensor:
        """Per-element std of the single-sample SDS gradient: w(t)·α² s²/(α² s² + σ²)."""
        a, s = schedule.alpha(t), schedule.sigma(t)
        return sds_weight(schedule, t, weighting) * a * a * self.std**2 / (a * a * self.std**2 + s * s)
