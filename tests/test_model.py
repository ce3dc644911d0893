import subprocess
import sys
from pathlib import Path

import pytest
import torch

from memeclean_core.errors import ModelLoadError
from memeclean_core.network.checkpoint import load_model
from memeclean_core.network.model import MemeCleanNet, UNetConfig, conv_of_concat
from memeclean_core.network.weights import blend_weights, save_checkpoint

ROOT = Path(__file__).resolve().parent.parent


def test_outputs_match_input_size_at_the_network_multiple():
    config = UNetConfig.tiny()
    net = MemeCleanNet(config).eval()
    x = torch.rand(2, 3, 3 * config.multiple, 2 * config.multiple)
    with torch.inference_mode():
        logits = net.predict_mask(x)
        filled = net.fill(x, torch.ones(2, 1, *x.shape[-2:]))
    assert logits.shape == (2, 1, *x.shape[-2:])
    assert filled.shape == x.shape


def test_untrained_fill_is_the_classical_prefill():
    """The fill branch starts as the identity on its prefill: training only moves away from Telea's floor."""
    net = MemeCleanNet(UNetConfig.tiny()).eval()
    prefill = torch.rand(1, 3, 32, 32)
    with torch.inference_mode():
        assert torch.equal(net.fill(prefill, torch.ones(1, 1, 32, 32)), prefill)


def test_a_convolution_of_parts_is_the_convolution_of_their_concatenation():
    """The UNet's decoders and heads convolve [upsampled, skip] part by part: the same values and gradients."""
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(7, 5, 3, padding=1)
    parts = [torch.randn(2, 4, 9, 9, requires_grad=True), torch.randn(2, 3, 9, 9, requires_grad=True)]
    joined = conv(torch.cat(parts, dim=1))
    (joined * torch.arange(5.0)[:, None, None]).sum().backward()
    expected = [conv.weight.grad.clone(), conv.bias.grad.clone()] + [part.grad.clone() for part in parts]
    conv.zero_grad()
    for part in parts:
        part.grad = None
    split = conv_of_concat(conv, parts)
    (split * torch.arange(5.0)[:, None, None]).sum().backward()
    assert torch.allclose(split, joined, atol=1e-5)
    got = [conv.weight.grad, conv.bias.grad] + [part.grad for part in parts]
    for a, b in zip(expected, got):
        assert torch.allclose(a, b, atol=1e-4)


def test_a_channels_last_training_step_computes_what_the_plain_layout_does():
    """Layout is a speed matter only: the same losses and gradients, to float precision."""
    torch.manual_seed(0)
    plain = MemeCleanNet(UNetConfig.tiny()).train()
    fast = MemeCleanNet(UNetConfig.tiny()).train()
    fast.load_state_dict(plain.state_dict())
    fast = fast.to(memory_format=torch.channels_last)
    image, mask = torch.rand(2, 3, 32, 32), (torch.rand(2, 1, 32, 32) > 0.7).float()
    for net, layout in ((plain, torch.contiguous_format), (fast, torch.channels_last)):
        logits, filled = net(image.contiguous(memory_format=layout), image.contiguous(memory_format=layout), mask)
        (logits.mean() + filled.mean()).backward()
    for (name, a), b in zip(plain.named_parameters(), fast.parameters()):
        assert torch.allclose(a.grad, b.grad, atol=1e-5), name


def test_checkpoint_round_trip_records_config_and_loads_weights_only(tmp_path):
    config = UNetConfig(mask_channels=4, mask_levels=3, fill_channels=4, fill_levels=2, max_channels=8, head_channels=4)
    net = MemeCleanNet(config)
    path = save_checkpoint(tmp_path / "m.pt", net, half=True)
    raw = torch.load(path, weights_only=True)
    assert raw["config"] == config.to_dict()
    assert all(v.dtype == torch.float16 for v in raw["model"].values() if v.is_floating_point())
    loaded = load_model(path, device="cpu", runtime="torch")
    assert loaded.config == config
    for key, value in net.state_dict().items():
        torch.testing.assert_close(
            loaded.net.state_dict()[key], value.half().float() if value.is_floating_point() else value
        )


def test_missing_corrupt_and_mismatched_weights_name_the_file(tmp_path):
    with pytest.raises(ModelLoadError, match="not found.*nope.pt"):
        load_model(tmp_path / "nope.pt")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"this is not a checkpoint")
    with pytest.raises(ModelLoadError, match="corrupt.pt"):
        load_model(corrupt)
    path = save_checkpoint(tmp_path / "mismatch.pt", MemeCleanNet(UNetConfig.tiny()))
    payload = torch.load(path, weights_only=True)
    payload["config"]["mask_channels"] = 8  # weights no longer fit the recorded config
    torch.save(payload, path)
    with pytest.raises(ModelLoadError, match="mismatch.pt.*does not match"):
        load_model(path)


def two_tiny_checkpoints(tmp_path):
    torch.manual_seed(1)
    first = save_checkpoint(tmp_path / "first.pt", MemeCleanNet(UNetConfig.tiny()))
    torch.manual_seed(2)
    second = save_checkpoint(tmp_path / "second.pt", MemeCleanNet(UNetConfig.tiny()))
    return first, second


def test_a_blend_of_two_checkpoints_lies_between_them_tensor_by_tensor(tmp_path):
    first, second = (torch.load(path, weights_only=True) for path in two_tiny_checkpoints(tmp_path))
    assert not torch.equal(first["model"]["mask_net.stem.0.weight"], second["model"]["mask_net.stem.0.weight"])
    for weight in (0.0, 0.3, 1.0):
        blended = blend_weights(first, second, weight)["model"]
        for key, value in first["model"].items():
            if value.is_floating_point():
                expected = (1 - weight) * value.float() + weight * second["model"][key].float()
                torch.testing.assert_close(blended[key], expected)
    assert torch.equal(
        blend_weights(first, second, 0.7)["model"]["mask_net.stem.1.num_batches_tracked"],
        second["model"]["mask_net.stem.1.num_batches_tracked"],
    )


def test_blending_refuses_different_networks_and_weights_outside_0_to_1(tmp_path):
    first, _ = two_tiny_checkpoints(tmp_path)
    payload = torch.load(first, weights_only=True)
    other = torch.load(
        save_checkpoint(
            tmp_path / "other.pt",
            MemeCleanNet(
                UNetConfig(
                    mask_channels=4, mask_levels=3, fill_channels=4, fill_levels=2, max_channels=8, head_channels=4
                )
            ),
        ),
        weights_only=True,
    )
    with pytest.raises(ValueError, match="different networks"):
        blend_weights(payload, other, 0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        blend_weights(payload, payload, 1.5)


def test_the_blend_script_writes_fp16_weights_that_load_and_never_overwrites(tmp_path):
    first, second = two_tiny_checkpoints(tmp_path)
    out = tmp_path / "blend.pt"
    command = [sys.executable, str(ROOT / "scripts" / "blend_models.py"), str(first), str(second), "--weight", "0.5"]
    done = subprocess.run([*command, "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    loaded = load_model(out, device="cpu", runtime="torch")
    a, b = torch.load(first, weights_only=True)["model"], torch.load(second, weights_only=True)["model"]
    key = "mask_net.stem.0.weight"
    torch.testing.assert_close(loaded.net.state_dict()[key], ((a[key] + b[key]) / 2).half().float())
    written = out.read_bytes()
    again = subprocess.run([*command, "--out", str(out)], capture_output=True, text=True)
    assert again.returncode == 1 and "blend_models:" in again.stderr and "Traceback" not in again.stderr
    assert out.read_bytes() == written
