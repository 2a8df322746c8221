#!/usr/bin/env python3
"""Regenerates tests/fuzz/corpus/<target>/ (seed inputs) and tests/fuzz/dict/.

Deterministic; run from anywhere: python3 tests/fuzz/make_corpus.py
Input formats: see the comment at the top of each tests/fuzz/fuzz_<target>.cpp.
"""
import gzip
import json
import pathlib
import re
import shutil
import struct

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SEP = b"\n#SFLSIM-FILE#\n"  # fuzz_target.hpp kSeparator


def gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def write_corpus(target: str, seeds: dict) -> None:
    d = HERE / "corpus" / target
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    for name, data in seeds.items():
        (d / name).write_bytes(data)
    print(f"corpus/{target}: {len(seeds)} seeds, {sum(map(len, seeds.values()))} bytes")


def scenario_seeds() -> dict:
    seeds = {}
    for rel in ["scenarios/quickstart.json", "scenarios/faults.json", "scenarios/bandwidth-profiles.json",
                "scenarios/10k-clients.json", "scenarios/paper/cifar100.json", "scenarios/paper/fmnist-hetero.json"]:
        seeds[pathlib.Path(rel).name] = (ROOT / rel).read_bytes()
    for bad in sorted((ROOT / "tests/scenario/bad").glob("*.json")):
        seeds["bad-" + bad.name] = bad.read_bytes()
    quick = (ROOT / "scenarios/quickstart.json").read_bytes()
    seeds["set-overrides"] = quick + SEP + b"clients.count=50" + SEP + b"algorithm.name=fedavg" + SEP + \
        b"faults.crashes=[{\"client\":1,\"at_s\":2}]"
    seeds["set-bad"] = b"{}" + SEP + b"dataset.name.x=1" + SEP + b"=1"
    return seeds


def sweep_seeds() -> dict:
    seeds = {}
    quick = (ROOT / "scenarios/quickstart.json").read_bytes()
    sweep = json.loads((ROOT / "scenarios/sweeps/clients-network-algorithm.json").read_text())
    sweep["base"] = "base.json"
    seeds["clients-network-algorithm"] = json.dumps(sweep).encode() + SEP + quick
    paper = ROOT / "scenarios/paper"
    for name in ["fmnist-hetero-weakest.json", "cifar10-10-clients.json"]:
        s = json.loads((paper / name).read_text())
        base = (paper / s["base"]).read_bytes()
        s["base"] = "base.json"
        seeds[name[:-5]] = json.dumps(s).encode() + SEP + base
    inline = {"base": {"name": "inline", "training": {"rounds": 2}},
              "set": {"clients.count": 4},
              "axes": [{"path": "algorithm.name", "values": ["supersfl", "sl"]},
                       {"path": "dataset.partition", "values": ["iid", "shards"]}]}
    seeds["inline-base"] = json.dumps(inline).encode()
    seeds["missing-base"] = b'{"base": "nope.json", "axes": [{"path": "seed", "values": [1]}]}'
    seeds["bad-cell"] = b'{"base": "base.json", "axes": [{"path": "training.rounds", "values": [1, 0]}]}' + SEP + b"{}"
    return seeds


def idx_images(n: int, h: int, w: int, start: int = 0) -> bytes:
    return struct.pack(">IIII", 0x803, n, h, w) + bytes((start + i * 37) & 0xFF for i in range(n * h * w))


def idx_labels(labels) -> bytes:
    return struct.pack(">II", 0x801, len(labels)) + bytes(labels)


def idx_seeds() -> dict:
    im, lb = idx_images(3, 4, 4), idx_labels([0, 9, 5])
    seeds = {
        "raw": b"\x00\x00" + im + SEP + lb,
        "gz": b"\x00\x00" + gz(im) + SEP + gz(lb),
        "diff": b"\x01\x00" + idx_images(1, 28, 28) + SEP + idx_labels([7]),
        "classes3": b"\x00\x03" + im + SEP + idx_labels([0, 2, 1]),
        "classes-bad": b"\x04\x00" + im + SEP + lb,
        "bad-magic": b"\x00\x00" + struct.pack(">IIII", 0x802, 1, 2, 2) + b"abcd" + SEP + idx_labels([1]),
        "truncated": b"\x01\x00" + im[:-3] + SEP + lb,
        "label-range": b"\x01\x00" + im + SEP + idx_labels([0, 10, 1]),
        "count-mismatch": b"\x00\x00" + im + SEP + idx_labels([0, 1]),
        "dir-raw": b"\x02\x00" + idx_images(2, 3, 3) + SEP + idx_labels([1, 2]) + SEP + idx_images(1, 3, 3, 5) +
                   SEP + idx_labels([3]),
        "dir-gz": b"\x03\x00" + idx_images(2, 2, 2) + SEP + idx_labels([4, 5]) + SEP + idx_images(1, 2, 3) +
                  SEP + idx_labels([6]),
    }
    return seeds


def cifar_seeds(files: int, label_bytes: int, labels) -> dict:
    rec = label_bytes + 3072
    compact = SEP.join(bytes(labels[i % len(labels)]) for i in range(files))
    seeds = {
        "compact": b"\x02" + compact,
        "compact-subfolder": b"\x03" + compact,
        "raw-truncated": b"\x00" + SEP.join([bytes(100)] * files),
        "raw-empty": b"\x01" + SEP.join([b""] * files),
        "raw-records": b"\x00" + SEP.join([bytes(rec)] * min(files, 2) + [b""] * (files - 2)),
        "missing-file": b"\x02" + SEP.join(bytes(labels[0]) for _ in range(files - 1)),
    }
    return seeds


def cifar10_seeds() -> dict:
    seeds = cifar_seeds(6, 1, [[0, 9], [3], [1, 2, 3], [4], [5, 6], [7, 8]])
    seeds["label-range"] = b"\x02" + SEP.join([b"\x01", b"\x02", b"\x03", b"\x04", b"\x05", b"\x0a"])
    return seeds


def cifar100_seeds() -> dict:
    seeds = cifar_seeds(2, 2, [[5, 51, 19, 99], [0, 0]])
    seeds["coarse"] = b"\x06" + bytes([5, 51, 19, 99]) + SEP + bytes([2, 7])
    seeds["fine-range"] = b"\x02" + bytes([5, 100]) + SEP + bytes([2, 7])
    seeds["coarse-range"] = b"\x06" + bytes([20, 1]) + SEP + bytes([2, 7])
    return seeds


def dict_line(token: bytes) -> str:
    def esc(b: int) -> str:
        if b in b'"\\':
            return "\\" + chr(b)
        return chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02x}"
    return '"' + "".join(map(esc, token)) + '"'


def write_dict(name: str, tokens) -> None:
    seen = []
    for t in tokens:
        if t not in seen:
            seen.append(t)
    (HERE / "dict").mkdir(exist_ok=True)
    (HERE / "dict" / f"{name}.dict").write_text(
        f"# AFL++ dictionary for the {name} target (generated by make_corpus.py)\n" +
        "".join(dict_line(t) + "\n" for t in seen))


def scenario_tokens() -> list:
    schema = (ROOT / "scenarios/SCHEMA.md").read_text()
    tokens = []
    for path, kind in re.findall(r"^\| `([^`]+)` \| ([^|]*(?:\\\|[^|]*)*) \|", schema, re.M):
        leaf = path.split(".")[-1].removesuffix("[]")
        tokens.append(f'"{leaf}":'.encode())
        tokens.append(path.replace("[]", "").encode() + b"=")
        tokens += [f'"{c}"'.encode() for c in re.findall(r'`"([^"`]+)"`', kind)]
    tokens += [b"true", b"false", b"null", b"{}", b"[]", b"-0", b"1e308", b"1e-320", b"-1",
               b"9223372036854775807", b"9223372036854775808", b"18446744073709551616", b"2147483648",
               b"\\u0000", b"\\n", b"\"\\ud800\"", SEP]
    return tokens


def main() -> None:
    write_corpus("scenario", scenario_seeds())
    write_corpus("sweep", sweep_seeds())
    write_corpus("idx", idx_seeds())
    write_corpus("cifar10", cifar10_seeds())
    write_corpus("cifar100", cifar100_seeds())
    scenario = scenario_tokens()
    write_dict("scenario", scenario)
    write_dict("sweep", scenario + [b'"base":', b'"set":', b'"axes":', b'"path":', b'"values":', b'"base.json"',
                                    b'"name":'])
    binary = [SEP, b"\x00\x00\x08\x03", b"\x00\x00\x08\x01", b"\x1f\x8b\x08\x00", b"\x00\x00\x10\x00",
              b"\x00\x00\x10\x01", b"\xff\xff\xff\xff", b"\x80\x00\x00\x00", b"\x00\x00\x00\x00"]
    write_dict("idx", binary)
    write_dict("cifar10", [SEP, b"\x0a", b"\x09", b"\xff"])
    write_dict("cifar100", [SEP, b"\x14", b"\x13", b"\x64", b"\x63", b"\xff"])


if __name__ == "__main__":
    main()
