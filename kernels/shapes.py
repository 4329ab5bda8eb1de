# The run shapes (Mp, Np, Kp) of the device products npuwhisper needs for each Whisper size, padded
# as the gemm contracts require (kernels/gemm_i8/contract.md): one instruction stream (and, with a
# toolchain without run-time loop bounds, one xclbin) per shape. Kept in one place so that the build
# rule, its dry run and a user reading the manifest see the same list.
import gemm_design

# n_state and n_mels of the published checkpoints (large-v2 has 80 mels: same shapes as large-v3
# but for the first convolution).
MODELS = {
    "tiny": (384, 80),
    "base": (512, 80),
    "small": (768, 80),
    "medium": (1024, 80),
    "large-v2": (1280, 80),
    "large-v3": (1280, 128),
}

ENCODER_FRAMES = 3000  # mel frames of a 30 s window: rows of the first convolution's product
ENCODER_ROWS = 1500  # rows of every later encoder product and of the cross-attention keys/values
DECODER_PREFILL_ROWS = (224, 448)  # a prompt of up to half a context, and the whole text context


def round_up(x, multiple):
    return (x + multiple - 1) // multiple * multiple


def model_products(model):
    """(name, M, N, K) of every many-row product of `model`, unpadded."""
    n, mels = MODELS[model]
    products = [
        ("conv1", ENCODER_FRAMES, n, 3 * mels),  # kernel 3 over the mel bins, as a GEMM on unfolded frames
        ("conv2", ENCODER_ROWS, n, 3 * n),
        ("qkv", ENCODER_ROWS, 3 * n, n),
        ("attn_out", ENCODER_ROWS, n, n),
        ("mlp_up", ENCODER_ROWS, 4 * n, n),
        ("mlp_down", ENCODER_ROWS, n, 4 * n),
        ("cross_kv", ENCODER_ROWS, 2 * n, n),
    ]
    for rows in DECODER_PREFILL_ROWS:
        products += [
            (f"prefill{rows}_qkv", rows, 3 * n, n),
            (f"prefill{rows}_out", rows, n, n),
            (f"prefill{rows}_mlp_up", rows, 4 * n, n),
            (f"prefill{rows}_mlp_down", rows, n, 4 * n),
        ]
    return products


def padded_shapes(models, generation):
    """Sorted distinct (Mp, Np, Kp) over `models` on `generation`."""
    pm, pn, pk = gemm_design.padding(generation)
    shapes = set()
    for model in models:
        for _, m, n, k in model_products(model):
            shapes.add((round_up(m, pm), round_up(n, pn), round_up(k, pk)))
    return sorted(shapes)
