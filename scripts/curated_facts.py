"""Write app/resources/curated_facts.json: the curated models' file lists and header facts as
the Hub serves them, so that choosing a curated model and its file works offline.

    .venv/bin/python scripts/curated_facts.py                  # from huggingface.co (HF_ENDPOINT)
    .venv/bin/python scripts/curated_facts.py --seed-stand-in  # from the seed cards (no network)

Run it when the catalog (app/resources/catalog.json) changes. Without network, `--seed-stand-in`
serves the seed cards' repos (their file names, sizes and model shapes) from the tests' local Hub;
tests/unit/fit/test_curated_facts.py checks that the shipped file is exactly that.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.hub.catalog import CURATED_FACTS, curated_models
from app.resources import RESOURCES

NOTES = {
    False: "Made by scripts/curated_facts.py from what the Hub served.",
    True: (
        "Made by scripts/curated_facts.py --seed-stand-in: the seed model cards' file names, "
        "sizes and shapes (as tests/localhub.py serves them), no network."
    ),
}


def document(*, seed_stand_in: bool) -> dict[str, object]:
    from app.core.fit.repo_facts import FACTS_FORMAT, curated_facts_from_hub

    with tempfile.TemporaryDirectory() as work:
        if not seed_stand_in:
            repos = curated_facts_from_hub(curated_models(), Path(work))
        else:
            from tests.localhub import LocalHub, seed_repos

            with LocalHub() as hub:
                for repo_id, files in seed_repos().items():
                    hub.add_listing_repo(repo_id, files)
                os.environ["HF_ENDPOINT"] = hub.url
                repos = curated_facts_from_hub(curated_models(), Path(work))
    return {"format": FACTS_FORMAT, "note": NOTES[seed_stand_in], "repos": repos}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed-stand-in", action="store_true")
    args = parser.parse_args()
    target = RESOURCES / CURATED_FACTS
    data = document(seed_stand_in=args.seed_stand_in)
    target.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {target} ({len(data['repos'])} repos)")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
