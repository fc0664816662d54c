"""bAbI question answering tasks v1.1 (Weston et al., 2015), English.

>>> from gdl.data.datasets import BAbI
>>> qa = BAbI(task=1)                         # doctest: +SKIP
>>> qa[0].story, qa[0].question, qa[0].answer  # doctest: +SKIP
(('Mary moved to the bathroom.', 'John went to the hallway.'), 'Where is Mary?', 'bathroom')
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from gdl.data.dataset import Dataset, check_index
from gdl.data.datasets._common import find_folder

__all__ = ["BAbI", "BAbIExample", "parse_babi"]


class BAbIExample(NamedTuple):
    """One question: the story so far, the question, its answer, the supporting facts.

    ``story`` holds the story's statements up to the question (questions left
    out); ``supporting`` are 0-based indices into ``story``; ``story_index``
    numbers the stories of the file from 0.
    """

    story: tuple[str, ...]
    question: str
    answer: str
    supporting: tuple[int, ...]
    story_index: int


def parse_babi(text: str, name: str = "bAbI file") -> list[BAbIExample]:
    """The examples of one bAbI task file (lines ``ID sentence`` or ``ID question\\tanswer\\tids``)."""
    examples: list[BAbIExample] = []
    story: list[str] = []
    line_to_fact: dict[int, int] = {}
    story_index = -1
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        head, _, body = line.partition(" ")
        if not head.isdigit():
            raise ValueError(f"{name}:{lineno}: expected a line number, got {line[:40]!r}")
        line_id = int(head)
        if line_id == 1:
            story, line_to_fact = [], {}
            story_index += 1
        elif story_index < 0:
            raise ValueError(f"{name}:{lineno}: the first story does not start at line 1")
        if "\t" in body:
            parts = body.split("\t")
            if len(parts) < 2:
                raise ValueError(f"{name}:{lineno}: a question needs 'question<TAB>answer<TAB>ids'")
            question, answer = parts[0].strip(), parts[1].strip()
            ids = parts[2].split() if len(parts) > 2 else []
            try:
                supporting = tuple(line_to_fact[int(i)] for i in ids)
            except (KeyError, ValueError):
                raise ValueError(
                    f"{name}:{lineno}: supporting facts {ids} do not name earlier statements of the story"
                ) from None
            examples.append(BAbIExample(tuple(story), question, answer, supporting, story_index))
        else:
            line_to_fact[line_id] = len(story)
            story.append(body.strip())
    return examples


class BAbI(Dataset):
    """One bAbI task (1-20), train or test split, as :class:`BAbIExample` items.

    Reads ``tasksv11/en/qaN_*_{train,test}.txt`` from ``root/babi/`` or ``root``
    (default root: ``$GDL_DATA_DIR``, else ``~/.cache/gdl``). If only the archive
    ``tasks_1-20_v1-1.tar.gz`` is there it is extracted beside itself (atomically);
    ``download=True`` fetches it when neither is there.

    Attributes: ``examples``, ``path`` (the task file), ``sentences`` (every
    statement and question of the file in order, questions without answers: the
    text the book's chapter 12 trains its language model on).
    """

    def __init__(self, root=None, task: int = 1, split: str = "train", download: bool = False):
        if isinstance(task, bool) or not isinstance(task, int) or not 1 <= task <= 20:
            raise ValueError(f"BAbI: task must be an integer 1-20, got {task!r}")
        if split not in ("train", "test"):
            raise ValueError(f"BAbI: split must be 'train' or 'test', got {split!r}")
        self.task, self.split = task, split

        def check(folder: Path):
            return None if (folder / "en").is_dir() else "en/"

        folder = find_folder(root, "babi", "tasksv11", "tasks_1-20_v1-1.tar.gz", download, check)
        matches = sorted((folder / "en").glob(f"qa{task}_*_{split}.txt"))
        if len(matches) != 1:
            raise FileNotFoundError(
                f"BAbI: expected one file qa{task}_*_{split}.txt in {folder / 'en'}, found {len(matches)}"
            )
        self.path = matches[0]
        text = self.path.read_text(encoding="utf-8")
        self.examples = parse_babi(text, str(self.path))
        self.sentences = []
        for line in text.splitlines():
            body = line.partition(" ")[2]
            if body.strip():
                self.sentences.append(body.split("\t")[0].strip())

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index) -> BAbIExample:
        return self.examples[check_index(index, len(self.examples), "BAbI")]

    def __repr__(self) -> str:
        return f"<BAbI task {self.task} {self.split}: {len(self)} questions from {self.path.name}>"
