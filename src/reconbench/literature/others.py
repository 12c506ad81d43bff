"""Published figures of methods reconbench does not run (rows of the same tables), keyed by the name the
papers use. Figures of methods reconbench runs live in their method spec (methods/specs/*.py)."""

from __future__ import annotations

from reconbench.literature.types import Check, Published, Training, image_row, row, sf3d_row

OTHERS: dict[str, Published] = {
    "SPAR3D": Published(
        results=(
            *sf3d_row("spar3d-gso", 0.120, 0.584, 0.850, 0.983),
            *image_row("spar3d-gso", 18.6, 0.836, 0.139),
            *sf3d_row("spar3d-omni", 0.122, 0.587, 0.845, 0.978),
            *image_row("spar3d-omni", 17.9, 0.832, 0.140),
        )
    ),
    "Shap-E": Published(
        results=(
            *sf3d_row("spar3d-gso", 0.204, 0.359, 0.638, 0.922),
            *image_row("spar3d-gso", 15.3, 0.802, 0.205),
            *sf3d_row("spar3d-omni", 0.212, 0.349, 0.624, 0.909),
            *image_row("spar3d-omni", 14.8, 0.8006, 0.205, note="SSIM as extracted (0.8006)"),
            *row("syncdreamer-gso30", {"chamfer": 0.0436, "volume_iou": 0.3584}),
        )
    ),
    "LN3Diff": Published(
        results=(
            *sf3d_row("spar3d-gso", 0.174, 0.422, 0.703, 0.949),
            *image_row("spar3d-gso", 17.1, 0.819, 0.169),
            *sf3d_row("spar3d-omni", 0.160, 0.480, 0.744, 0.957),
            *image_row("spar3d-omni", 16.7, 0.819, 0.161),
        )
    ),
    "ZeroShape": Published(
        results=(
            *sf3d_row("sf3d-gso", 0.160, 0.489, 0.759, 0.952),
            *sf3d_row("sf3d-omni", 0.144, 0.507, 0.786, 0.969),
            *sf3d_row("triposr-gso", 0.160, 0.489, 0.757, 0.952),
            *sf3d_row("triposr-omni", 0.144, 0.507, 0.786, 0.968),
        )
    ),
    "One-2-3-45": Published(
        results=(
            *sf3d_row("triposr-gso", 0.227, 0.382, 0.630, 0.878),
            *sf3d_row("triposr-omni", 0.197, 0.445, 0.698, 0.907),
            *row(
                "crm-gso30",
                {
                    "chamfer": 0.0172,
                    "volume_iou": 0.4463,
                    "fscore@0.05": 0.7219,
                    "psnr": 13.93,
                    "ssim": 0.8084,
                    "lpips": 0.2625,
                    "clip_similarity": 0.7983,
                },
            ),
            *row("syncdreamer-gso30", {"chamfer": 0.0629, "volume_iou": 0.4086}),
        )
    ),
    "TGS": Published(
        results=(
            *sf3d_row("triposr-gso", 0.122, 0.637, 0.846, 0.968),
            *sf3d_row("triposr-omni", 0.142, 0.602, 0.818, 0.949),
            *row("crm-gso30", {"chamfer": 0.0172, "volume_iou": 0.2982, "fscore@0.05": 0.6517}),
        )
    ),
    "SyncDreamer": Published(
        results=(
            *row(
                "crm-gso30",
                {
                    "chamfer": 0.0140,
                    "volume_iou": 0.3900,
                    "fscore@0.05": 0.7574,
                    "psnr": 14.00,
                    "ssim": 0.8165,
                    "lpips": 0.2591,
                    "clip_similarity": 0.8276,
                },
            ),
            *row("syncdreamer-gso30", {"chamfer": 0.0261, "volume_iou": 0.5421}),
            *image_row("syncdreamer-gso30", 20.05, 0.798, 0.146),
        )
    ),
    "Wonder3D": Published(
        results=(
            *row(
                "crm-gso30",
                {
                    "chamfer": 0.0186,
                    "volume_iou": 0.4398,
                    "fscore@0.05": 0.7675,
                    "psnr": 13.31,
                    "ssim": 0.8121,
                    "lpips": 0.2554,
                    "clip_similarity": 0.8370,
                },
            ),
        )
    ),
    "Magic123": Published(
        results=(
            *row(
                "crm-gso30",
                {
                    "chamfer": 0.0188,
                    "volume_iou": 0.3714,
                    "fscore@0.05": 0.6066,
                    "psnr": 12.69,
                    "ssim": 0.7984,
                    "lpips": 0.2442,
                    "clip_similarity": 0.8516,
                },
            ),
            *row("syncdreamer-gso30", {"chamfer": 0.0516, "volume_iou": 0.4528}),
        )
    ),
    "RealFusion": Published(
        results=(
            *row("syncdreamer-gso30", {"chamfer": 0.0819, "volume_iou": 0.2741}),
            *image_row("syncdreamer-gso30", 15.26, 0.722, 0.283),
        )
    ),
    "Point-E": Published(results=(*row("syncdreamer-gso30", {"chamfer": 0.0426, "volume_iou": 0.2875}),)),
    "Zero123": Published(
        results=(
            *row("syncdreamer-gso30", {"chamfer": 0.0339, "volume_iou": 0.5035}),
            *image_row("syncdreamer-gso30", 18.93, 0.779, 0.166),
        )
    ),
    "LRM": Published(
        training=Training(
            9216.0,
            7680.0,
            10752.0,
            "A100-40GB",
            "128 GPUs x 3 days x 24 h; range 2.5-3.5 days",
            "Hong et al., LRM (arXiv 2311.04400): 128 NVIDIA (40G) A100 GPUs, about 3 days",
            Check("unverified", "carried over from cost/published.py; paper not re-read"),
            "Adobe's LRM has no public code or weights; listed for comparison with OpenLRM only.",
        ),
    ),
}
