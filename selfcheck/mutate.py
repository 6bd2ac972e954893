#!/usr/bin/env python3
"""Reads the mutant catalogue (selfcheck/mutants/*.mut) and applies mutants.

A mutant file:

    # comments
    name: no-prev-check
    bug: follower accepts AppendEntries without the prev_log_index/prev_log_term check
    groups: 2B 2C          # the groups that teach it (the full matrix runs these)
    ci: FailAgree2B        # the test(s) that kill it fastest (the CI matrix runs these)
    edit raft/src/replication.rs
    <<<<
    exact lines of the reference
    ====
    what replaces them
    >>>>

Each `<<<<` block must occur exactly once in its file, so a mutant whose
anchor has drifted from the reference fails loudly instead of silently
testing nothing.

    mutate.py list                       name, groups, ci, bug (tab-separated)
    mutate.py check ROOT                 every mutant applies to ROOT's raft/ and kvraft/
    mutate.py apply ROOT NAME DEST       writes DEST/raft and DEST/kvraft, mutated

Exit status: 0 done, 2 usage, 3 a mutant is malformed or no longer applies.
"""
import pathlib
import shutil
import sys

HERE = pathlib.Path(__file__).resolve().parent
import os

# The catalogue folder ($SELFCHECK_MUTANTS overrides it, for the script's own tests).
CATALOGUE = pathlib.Path(os.environ.get("SELFCHECK_MUTANTS", HERE / "mutants"))
CRATES = ("raft", "kvraft")


class MutantError(Exception):
    pass


def parse(path):
    meta, edits = {}, []
    lines = path.read_text().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("edit "):
            target = line[len("edit "):].strip()
            if lines[i + 1] != "<<<<":
                raise MutantError(f"{path.name}:{i + 2}: expected <<<< after 'edit {target}'")
            j = i + 2
            old, new, part = [], [], "old"
            while j < len(lines) and lines[j] != ">>>>":
                if lines[j] == "====" and part == "old":
                    part = "new"
                else:
                    (old if part == "old" else new).append(lines[j])
                j += 1
            if j == len(lines) or part != "new":
                raise MutantError(f"{path.name}:{i + 1}: edit block without ==== and >>>>")
            edits.append((target, "\n".join(old) + "\n", "\n".join(new) + "\n" if new else ""))
            i = j + 1
            continue
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition(":")
            meta[key.strip()] = value.split("#")[0].strip()
        i += 1
    for key in ("name", "bug", "groups", "ci"):
        if not meta.get(key):
            raise MutantError(f"{path.name}: missing '{key}:'")
    if meta["name"] != path.stem:
        raise MutantError(f"{path.name}: name '{meta['name']}' differs from the file name")
    if not edits:
        raise MutantError(f"{path.name}: no edit")
    meta["edits"] = edits
    return meta


def catalogue():
    return [parse(p) for p in sorted(CATALOGUE.glob("*.mut"))]


def mutate(meta, root, dest):
    """Copies root's student crates to dest and applies meta's edits there."""
    dest = pathlib.Path(dest)
    for crate in CRATES:
        shutil.rmtree(dest / crate, ignore_errors=True)
        shutil.copytree(pathlib.Path(root) / crate, dest / crate, ignore=shutil.ignore_patterns("target"))
    for target, old, new in meta["edits"]:
        if target.split("/")[0] not in CRATES:
            raise MutantError(f"mutant {meta['name']}: edits {target}, outside {' and '.join(CRATES)}")
        path = dest / target
        if not path.is_file():
            raise MutantError(f"mutant {meta['name']}: {target} does not exist")
        text = path.read_text()
        count = text.count(old)
        if count != 1:
            first = old.strip().split("\n")[0]
            raise MutantError(
                f"mutant {meta['name']}: the anchor starting '{first}' occurs {count} times in {target} "
                "(want exactly 1): update selfcheck/mutants/" + meta["name"] + ".mut to the reference"
            )
        path.write_text(text.replace(old, new))


def main(argv):
    if len(argv) >= 1 and argv[0] == "list":
        for m in catalogue():
            print("\t".join([m["name"], m["groups"], m["ci"], m["bug"]]))
        return 0
    if len(argv) == 2 and argv[0] == "check":
        import tempfile

        mutants = catalogue()
        with tempfile.TemporaryDirectory() as tmp:
            for m in mutants:
                mutate(m, argv[1], tmp)
        print(f"mutate: all {len(mutants)} mutants apply to the reference")
        return 0
    if len(argv) == 4 and argv[0] == "apply":
        by_name = {m["name"]: m for m in catalogue()}
        if argv[2] not in by_name:
            raise MutantError(f"no mutant '{argv[2]}'; known: {', '.join(sorted(by_name))}")
        mutate(by_name[argv[2]], argv[1], argv[3])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except MutantError as e:
        print(f"mutate: {e}", file=sys.stderr)
        sys.exit(3)
