"""Weights from outside: original MiCT-Net-PyTorch checkpoints, ImageNet transfer and inflation."""

from __future__ import annotations

import re
from urllib.error import URLError

import pytest
import torch
import torch.nn.functional as F
from torchvision.models import resnet18

from mict_pipeline.checkpoint import CheckpointError, import_seed_checkpoint
from mict_pipeline.models import build_model
from reference import OriginalMiCTResNet
from mict_pipeline.models.weights import PretrainedWeightsError, inflate_kernel

# The original checkpoint's MiCT key names, as documented for MiCT-Net-PyTorch.
ORIGINAL_MICT_KEY = re.compile(
    r"^(conv1|bn1|conv2|bn2|fc"
    r"|layer[1-4]\.(conv|bn)"
    r"|layer[1-4]\.bottlenecks\.\d+\.(conv1|bn1|conv2|bn2|downsample\.0|downsample\.1))\."
)


def save_original_checkpoint(path, state_dict):
    torch.save({"epoch": 120, "state_dict": state_dict, "optimizer": {"state": {}, "param_groups": []}, "best_pred": 81.2}, path)


def test_original_mict_checkpoint_maps_one_to_one_and_gives_its_logits(tmp_path, randomize_batchnorm):
    torch.manual_seed(1)
    original = OriginalMiCTResNet((2, 2, 2, 2)).eval()
    randomize_batchnorm(original, seed=1)
    state = original.state_dict()
    assert all(ORIGINAL_MICT_KEY.match(k) for k in state), [k for k in state if not ORIGINAL_MICT_KEY.match(k)]
    save_original_checkpoint(tmp_path / "mict.pth.tar", state)

    model = import_seed_checkpoint(tmp_path / "mict.pth.tar", "mict_resnet18")
    assert len(model.state_dict()) == len(state)  # one-to-one: strict load found no extra or missing key
    x = torch.randn(2, 3, 16, 96, 96)
    with torch.no_grad():
        torch.testing.assert_close(model(x), original(x), rtol=1e-4, atol=1e-5)


def test_original_3d_resnet_checkpoint_loads(tmp_path):
    model = build_model("resnet3d_18")
    # Hara's names: conv1, bn1, layerN.I.*, fc — ours differ only in the stem.
    state = {k.replace("stem.0.", "conv1.").replace("stem.1.", "bn1."): v.clone() for k, v in model.state_dict().items()}
    assert {k.split(".")[0] for k in state} == {"conv1", "bn1", "layer1", "layer2", "layer3", "layer4", "fc"}
    save_original_checkpoint(tmp_path / "r3d.pth.tar", state)
    loaded = import_seed_checkpoint(tmp_path / "r3d.pth.tar", "resnet3d_18")
    for key, value in loaded.state_dict().items():
        assert torch.equal(value, model.state_dict()[key]), key


def test_data_parallel_prefix_is_stripped(tmp_path):
    state = {f"module.{k}": v for k, v in OriginalMiCTResNet((2, 2, 2, 2)).state_dict().items()}
    save_original_checkpoint(tmp_path / "dp.pth.tar", state)
    import_seed_checkpoint(tmp_path / "dp.pth.tar", "mict_resnet18")


def test_wrong_architecture_is_named(tmp_path):
    save_original_checkpoint(tmp_path / "orig.pth.tar", OriginalMiCTResNet((2, 2, 2, 2)).state_dict())
    with pytest.raises(CheckpointError, match="does not fit this model") as err:
        import_seed_checkpoint(tmp_path / "orig.pth.tar", "resnet3d_18")
    assert "missing keys" in str(err.value) and "orig.pth.tar" in str(err.value)


def test_other_number_of_classes_is_named(tmp_path):
    # The original's checkpoints are UCF-101 models: one trained on 51 classes does not pass for one.
    save_original_checkpoint(tmp_path / "orig.pth.tar", OriginalMiCTResNet((2, 2, 2, 2), num_classes=51).state_dict())
    with pytest.raises(CheckpointError, match=r"fc.weight: \(51, 512\) vs \(101, 512\)"):
        import_seed_checkpoint(tmp_path / "orig.pth.tar", "mict_resnet18")


def test_v2_checkpoint_and_first_kernel_depth(tmp_path, randomize_batchnorm):
    torch.manual_seed(2)
    original = OriginalMiCTResNet((2, 2, 2, 2), version="v2", first_kernel_depth=3).eval()
    randomize_batchnorm(original, seed=2)
    save_original_checkpoint(tmp_path / "v2.pth.tar", original.state_dict())
    model = import_seed_checkpoint(tmp_path / "v2.pth.tar", "mict_resnet18", version="v2")  # depth read from the weights
    x = torch.randn(1, 3, 16, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), original(x), rtol=1e-4, atol=1e-5)


def test_a_file_without_a_state_dict_is_not_an_original_checkpoint(tmp_path):
    torch.save({"weights": {}}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match=r"other.pt: not an original MiCT-Net-PyTorch checkpoint"):
        import_seed_checkpoint(tmp_path / "other.pt", "mict_resnet18")


@pytest.fixture
def imagenet_resnet18(tmp_path, randomize_batchnorm):
    torch.manual_seed(3)
    resnet = resnet18()
    randomize_batchnorm(resnet, seed=3)
    path = tmp_path / "resnet18.pth"
    torch.save(resnet.state_dict(), path)
    return resnet.eval(), path


def test_mict_copies_imagenet_weights_into_its_2d_branch(imagenet_resnet18):
    resnet, path = imagenet_resnet18
    model = build_model("mict_resnet18", pretrained=str(path))
    ours = model.state_dict()
    assert torch.equal(ours["stem.stem_2d.0.weight"], resnet.conv1.weight)
    assert torch.equal(ours["layer3.blocks.1.bn2.running_var"], resnet.layer3[1].bn2.running_var)
    assert torch.equal(ours["layer2.blocks.0.downsample.0.weight"], resnet.layer2[0].downsample[0].weight)
    # The 2D stem of the MiCT model is the ResNet stem, frame by frame.
    frame = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = resnet.maxpool(resnet.relu(resnet.bn1(resnet.conv1(frame))))
        torch.testing.assert_close(model.stem.stem_2d.eval()(frame), expected)


def test_r3d_inflation_responds_like_the_2d_kernel_on_a_static_clip(imagenet_resnet18):
    resnet, path = imagenet_resnet18
    model = build_model("resnet3d_18", pretrained=str(path))
    conv3d = model.stem[0]
    assert torch.allclose(conv3d.weight.sum(dim=2), resnet.conv1.weight, atol=1e-6)
    frame = torch.randn(1, 3, 32, 32)
    clip = frame.unsqueeze(2).repeat(1, 1, 12, 1, 1)
    with torch.no_grad():
        response_3d = conv3d(clip)  # padding 3 in time: frames 3..8 see only real frames
        response_2d = F.conv2d(frame, resnet.conv1.weight, stride=2, padding=3)
    for t in range(3, 12 - 3):
        torch.testing.assert_close(response_3d[:, :, t], response_2d, rtol=1e-4, atol=1e-5)
    # Every 3x3 kernel of the blocks was inflated the same way.
    torch.testing.assert_close(model.layer4[1].conv2.weight, inflate_kernel(resnet.layer4[1].conv2.weight, 3))


def test_pretrained_true_uses_torchvision_weights(monkeypatch, tmp_path, imagenet_resnet18):
    # The download is hash-checked by torchvision; offline, its cache holds the file already.
    resnet, path = imagenet_resnet18
    from torchvision.models import ResNet18_Weights

    cache = tmp_path / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    (cache / ResNet18_Weights.IMAGENET1K_V1.url.rsplit("/", 1)[1]).write_bytes(path.read_bytes())
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    model = build_model("mict_resnet18", pretrained=True)
    assert torch.equal(model.state_dict()["stem.stem_2d.0.weight"], resnet.conv1.weight)


def test_pretrained_path_missing_says_what_to_give(tmp_path):
    with pytest.raises(PretrainedWeightsError, match=r"missing.pth: no such file. Fix: .*`pretrained: /path/to/resnet18-f37072fd.pth`"):
        build_model("mict_resnet18", pretrained=str(tmp_path / "missing.pth"))


def test_pretrained_weights_that_cannot_be_fetched_say_how_to_do_without(monkeypatch, tmp_path):
    """Offline, with nothing in torch's cache: one line naming the weights, a local file or `pretrained: false`."""
    import torch.hub

    def offline(url, *args, **kwargs):
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(PretrainedWeightsError) as refused:
        build_model("mict_resnet18", pretrained=True)
    message = str(refused.value)
    assert "\n" not in message and "ResNet-18 weights (https://" in message and "name resolution" in message
    assert message.endswith("point `pretrained:` at a downloaded torchvision file (`pretrained: /path/to/resnet18-f37072fd.pth`) "
                            "or turn it off (`pretrained: false`)")


def test_a_pretrained_file_of_pickled_code_is_refused(tmp_path):
    path = tmp_path / "code.pth"
    torch.save({"conv1.weight": torch.zeros(1), "hook": print}, path)  # a function: weights_only refuses to unpickle it
    with pytest.raises(PretrainedWeightsError, match="code.pth: not a ResNet-18 state_dict"):
        build_model("mict_resnet18", pretrained=str(path))
