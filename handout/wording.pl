# The handout's wording: what `xtask handout` rewrites, in the kit
# files it ships, where they speak of the kit's own raft/ and kvraft/ as "the
# reference". In a student's copy the workspace's raft/ and kvraft/ are the
# student's own, so each phrase becomes what it means there. Run as
#
#   perl -0777 -p -i handout/wording.pl FILE…
#
# (the whole file in $_). A rule whose phrase is gone does nothing; a phrase
# no rule covers is caught by `xtask test-handout`, which names the file
# and line. Better still, reword the kit file itself and drop its rule here.

# A space between two words, which may be a line break in a comment (the
# next line's comment marker included).
my $sp = qr{\s+(?:(?://[/!]?|\#)\s+)?};

# The Makefile's help texts.
s{Grade the reference solution}{Grade this folder's raft/ and kvraft/}g;
s{instead of the reference one}{instead of this folder's raft/}g;

# The grader (grader/src): graded without a submission, and the self-check.
s{whose raft/ and kvraft/ are the reference}{whose raft/ and kvraft/ the mutants change}g;
s{The raftlab workspace: the reference crates the mutants edit}{The raftlab workspace, whose crates the mutants edit}g;
s{applies to the reference crates of `workspace`}{applies to the crates of `workspace`}g;
s{"reference crates"}{"the workspace's crates"}g;
s{\b(the|The) reference crates\b}{$1 workspace's crates}g;
s{\b(the|The) reference (`labs`|labs\b|tester\b)}{$1 kit's $2}g;
s{\bthe reference (`raft/`)}{the workspace's $1}g;
s{The catalogue and the reference\.}{The catalogue and the workspace.}g;
s{\bto the reference\b(?!')}{to the workspace's crates}g;
s{\blines of the reference\b}{lines of the workspace's crates}g;
s{\bdrifted from the reference\b}{drifted from the workspace's crates}g;
s{\bother than the reference's\b}{other than the workspace's}g;
s{\bin place of the reference\b}{in place of the workspace's crates}g;

# The Gradescope package (grader/src/package.rs, grader/package/setup.sh).
s{the reference solution(${sp})\(replaced by}{the workspace's raft/ and kvraft/$1(replaced by}g;
s{so that no reference solution(${sp})reaches}{so that no other raft/ or kvraft/$1reaches}g;
s{No reference solution: the skeletons stand in its place\.}{The skeletons stand in place of the workspace's crates.}g;
s{The package holds no reference solution: raft/ and kvraft/}{The package's raft/ and kvraft/}g;

# The runner (runner/src/sandbox.rs, runner/src/load/mod.rs).
s{(kit's sources), the reference solution, (the rubric)}{$1, $2}g;
s{measured on the reference \(}{shipped with the kit (}g;

# The tests (labs/src/lab2d_extra.rs).
s{how many played; the reference plays every${sp}round\.}{how many played.}g;
