"""Training on several nodes: two ``torchrun`` processes on 127.0.0.1 (c10d rendezvous, gloo on the
CPU), one per node, train to the weights of one node running two processes; a node killed in the
middle of an epoch and started again rejoins, and the run resumes from ``last.pt`` to those weights.
The deploy files (SLURM, Kubernetes) are well-formed and run the command docs/training.md describes.

Run as a script (what each node's torchrun starts), this module is one rank of the tiny run.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import yaml

from mict_pipeline.checkpoint import read_checkpoint
from mict_pipeline.clips.dataset import ClipDataset
from mict_pipeline.training import distributed_context, train

from tiny_training import CLIPS, index_table, moving_bar_frames, tiny_experiment

ROOT = Path(__file__).resolve().parents[2]
TORCHRUN = Path(sys.executable).with_name("torchrun")
# Read by the ranks in epoch 2 (epoch 1's last.pt written): SNAPSHOT, where rank 0 copies last.pt at
# the epoch's first clip; STALL, a file where the rank writes its pid after the epoch's first step
# (at its third clip: two a step), then waits for the test to kill it.
SNAPSHOT, STALL = "MICT_TEST_SNAPSHOT", "MICT_TEST_STALL"


class EpochTwoClips(ClipDataset):
    """Training clips that act in epoch 2 as :data:`SNAPSHOT` and :data:`STALL` ask."""

    def __init__(self, *args, out: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.out, self.epoch_2_clips = out, 0

    def __getitem__(self, key):
        if key[0] == 1:
            self.epoch_2_clips += 1
            snapshot = os.environ.get(SNAPSHOT)
            if snapshot and dist.get_rank() == 0 and self.epoch_2_clips == 1:
                shutil.copyfile(os.path.join(self.out, "last.pt"), snapshot)
            if STALL in os.environ and self.epoch_2_clips == 3:
                Path(os.environ[STALL]).write_text(str(os.getpid()))
                time.sleep(300)
        return super().__getitem__(key)


def run_rank(out: str) -> None:
    """One rank of a 2-epoch run of the tiny model, checkpoints in ``out``."""
    torch.set_num_threads(1)
    experiment = tiny_experiment(epochs=2, lr_milestones=(), eval_batch_size=4)
    with distributed_context():
        torch.manual_seed(0)
        train_set = EpochTwoClips(index_table(8), "train", CLIPS, seed=7, loader=moving_bar_frames, out=out)
        test_set = ClipDataset(index_table(4), "clip", CLIPS, loader=moving_bar_frames)
        train(experiment.build_model(), train_set, test_set, experiment, out, progress=False)


def _one_node_rank(rank: int, port: int, out: str, snapshot: str) -> None:
    os.environ.update(WORLD_SIZE="2", RANK=str(rank), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    os.environ[SNAPSHOT] = snapshot
    run_rank(out)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


STARTED: list[subprocess.Popen] = []


@pytest.fixture
def no_node_left():
    """A failed test leaves no torchrun waiting at its rendezvous: SIGTERM (torchrun stops its ranks), then SIGKILL."""
    yield
    for node in STARTED:
        if node.poll() is None:
            os.kill(node.pid, signal.SIGTERM)
            try:
                node.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(node.pid, signal.SIGKILL)
                node.wait()
    STARTED.clear()


def _torchrun(out: Path, log: Path, port: int, *, max_restarts: int = 0, stall: Path | None = None) -> subprocess.Popen:
    """One node's ``torchrun`` of :func:`run_rank` (one process; two nodes), in its own process group;
    in :data:`STARTED` until the test ends."""
    # TORCH_DISABLE_SHARE_RDZV_TCP_STORE as in deploy/: without it, a node started again waits forever
    # for the address of a surviving rank 0's store (torch 2.14 publishes it once per node, not per round).
    # TMPDIR: torchrun's per-run folders (torchelastic_*) go with the test's, not into /tmp for good.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TORCH_DISABLE_SHARE_RDZV_TCP_STORE": "1", "TMPDIR": str(log.parent)}
    if stall is not None:
        env[STALL] = str(stall)
    command = [
        str(TORCHRUN), "--nnodes", "2", "--nproc-per-node", "1", "--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{port}",
        "--max-restarts", str(max_restarts), "--monitor-interval", "0.2",
        # A lost node leaves the rendezvous after 2 missed 1 s heartbeats, not torch's 3 of 5 s.
        "--rdzv-conf", "keep_alive_interval=1,keep_alive_max_attempt=2",
        __file__, str(out),
    ]
    with open(log, "ab") as sink:
        node = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    STARTED.append(node)
    return node


def _wait_until(condition, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _finish(*nodes: subprocess.Popen, log: Path) -> None:
    for node in nodes:
        try:
            rc = node.wait(timeout=90)
        except subprocess.TimeoutExpired:
            rc = "still running after 90 s"
        assert rc == 0, log.read_text()[-3000:]


def _assert_same_state(got_path: Path, expected_path: Path, epoch: int) -> None:
    """Exactly the same weights and history: each step all-reduces the same two gradients (gloo's
    sum of two processes' tensors, the same in any order), wherever the processes run."""
    got, expected = read_checkpoint(got_path), read_checkpoint(expected_path)
    assert got.training["epoch"] == expected.training["epoch"] == epoch
    assert got.training["history"] == expected.training["history"]
    assert got.state_dict.keys() == expected.state_dict.keys()
    for key, value in expected.state_dict.items():
        assert torch.equal(value, got.state_dict[key]), (epoch, key)


def test_two_nodes_train_as_one_node_with_two_processes_and_resume_after_losing_one(tmp_path, no_node_left):
    # The reference: one node's two processes as its torchrun would start them. Spawned, not forked:
    # autograd refuses to run in a fork of a process that has run a backward pass (as a test worker may have).
    one_node, one_node_epoch_1 = tmp_path / "one_node", tmp_path / "one_node_epoch_1.pt"
    mp.spawn(_one_node_rank, args=(_free_port(), str(one_node), str(one_node_epoch_1)), nprocs=2)

    out, log, port, stall = tmp_path / "run", tmp_path / "nodes.log", _free_port(), tmp_path / "stalled"
    # The first node hosts the rendezvous' store, so it is the one that survives (losing it ends the
    # job: a scheduler's requeue starts every node again, which resumes the same way).
    survivor = _torchrun(out, log, port, max_restarts=1)
    _wait_until(lambda: _listening(port), "the rendezvous")
    lost = _torchrun(out, log, port, stall=stall)
    _wait_until(lambda: stall.exists() and stall.read_text(), "the middle of epoch 2 on the second node")
    os.killpg(lost.pid, signal.SIGKILL)  # the node's torchrun, then its rank (in a session of its own): the machine is gone
    os.kill(int(stall.read_text()), signal.SIGKILL)
    lost.wait()
    _assert_same_state(out / "last.pt", one_node_epoch_1, epoch=1)  # two nodes trained epoch 1 as one node
    # Started again (as a scheduler restarts a lost node), it rejoins; the survivor's torchrun restarts its rank.
    rejoined = _torchrun(out, log, port)
    _finish(survivor, rejoined, log=log)
    assert log.read_text().count(f"resuming {out} from epoch 1 of 2") == 2  # both ranks
    _assert_same_state(out / "last.pt", one_node / "last.pt", epoch=2)
    assert sorted(p.name for p in out.iterdir()) == ["best.pt", "last.pt"]  # nothing half-written left


def _torchrun_command(script: str) -> str:
    """The torchrun command of a shell script, its continuation lines joined, from ``torchrun`` on."""
    joined = " ".join(script.replace("\\\n", " ").split())
    commands = re.findall(r"torchrun --nnodes .*?--params=\S+", joined)
    assert len(commands) == 1, commands
    return commands[0]


def test_the_deploy_files_are_well_formed_and_run_the_documented_command():
    sbatch = ROOT / "deploy" / "slurm" / "train.sbatch"
    subprocess.run(["bash", "-n", str(sbatch)], check=True)
    service, job = yaml.safe_load_all((ROOT / "deploy" / "kubernetes" / "train.yaml").read_text())
    pod = job["spec"]["template"]["spec"]
    container, = pod["containers"]
    script = container["args"][0]
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)
    env = {item["name"]: item["value"] for item in container["env"]}
    # The pods are the nodes, and they meet at pod 0 by the name the headless Service gives it.
    assert job["spec"]["completionMode"] == "Indexed"
    assert job["spec"]["completions"] == job["spec"]["parallelism"] == int(env["NNODES"])
    assert service["spec"]["clusterIP"] == "None" and pod["subdomain"] == service["metadata"]["name"]
    assert env["RDZV_HOST"] == f"{job['metadata']['name']}-0.{service['metadata']['name']}"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == int(env["NPROC_PER_NODE"])

    documented = _torchrun_command((ROOT / "docs" / "training.md").read_text())
    assert _torchrun_command(sbatch.read_text()) == _torchrun_command(script) == documented
    # ... with the Kedro command of the stage's DVC definition, so DVC can record what it made.
    kedro = documented.split(" -m ", 1)[1].replace('"$KEDRO_ENV"', "base").replace('"$NAMESPACE"', "split_1.mict_resnet18")
    assert kedro == yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["train-split_1-mict_resnet18"]["cmd"]
    commit = re.compile(r"dvc commit --force .*")
    assert commit.findall(sbatch.read_text()) == commit.findall(script) == commit.findall((ROOT / "docs" / "training.md").read_text())


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)  # the loop's "resuming" line, which the test reads
    run_rank(sys.argv[1])
