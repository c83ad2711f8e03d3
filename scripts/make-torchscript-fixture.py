#!/usr/bin/env python3
"""Writes the tiny TorchScript fixture used by the backbone tests.

Run from the repository root (needs PyTorch; on Debian 12: apt-get install python3-torch):
    /usr/bin/python3 scripts/make-torchscript-fixture.py

Output: tests/SliceLearning.Backbones.Tests/Fixtures/tiny_mlp.pt, a scripted
Linear(4, 8) -> Tanh -> Linear(8, 3) with fixed weights (w[i] = 0.01 * (i + 1) - 0.1, in
row-major order per tensor), plus tiny_mlp_expected.txt: the module's output for the fixed input
x = [[1, 2, 3, 4], [-1, 0.5, 0, 2]] computed here, which the C# test compares against.
"""
import os
import torch


class TinyMlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(4, 8)
        self.fc2 = torch.nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.tanh(self.fc1(x)))


def main():
    torch.manual_seed(0)
    m = TinyMlp()
    with torch.no_grad():
        for p in m.parameters():
            n = p.numel()
            p.copy_((torch.arange(n, dtype=torch.float32) * 0.01 - 0.1 + 0.01).reshape(p.shape))
    m.eval()
    scripted = torch.jit.script(m)
    out_dir = os.path.join("tests", "SliceLearning.Backbones.Tests", "Fixtures")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "tiny_mlp.pt")
    scripted.save(path)
    x = torch.tensor([[1.0, 2.0, 3.0, 4.0], [-1.0, 0.5, 0.0, 2.0]])
    with torch.no_grad():
        y = scripted(x)
    with open(os.path.join(out_dir, "tiny_mlp_expected.txt"), "w") as f:
        f.write(f"# torch {torch.__version__}: output of tiny_mlp.pt for x = [[1, 2, 3, 4], [-1, 0.5, 0, 2]]\n")
        for row in y.tolist():
            f.write(" ".join(f"{v:.9g}" for v in row) + "\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes) with torch {torch.__version__}")
    print(y)


if __name__ == "__main__":
    main()
