"""How well the attribution step finds who speaks, measured against hand-labelled spans.

For each folder (an annotation folder: ``articles/*.txt``, ``articles.jsonl``, ``spans.jsonl``), every
article is split into sentences and attributed in one pass (:func:`stance.attribution.attribute`),
then compared with the gold positions projected onto sentences as training does (a span labels every
sentence it shares a character with):

- **speaker agreement**: the share of gold positions whose predicted speaker (the speaker of the source
  the attribution gives that position's stance, or the schema's ``voice`` when there is none) equals the
  gold speaker. A sentence holding two positions on one stance by different holders can get only one
  of them right.
- **source precision / recall / F1**, only where spans record their source mention (``"source":
  {"start", "end", "text"}``, the development set), as :mod:`stance.sources` defines them for
  ``stance evaluate`` too: a predicted source is right when it overlaps a gold source mention of its
  sentence.

Articles listed as held out in the folder's ``split.json`` (and their translations) are never read;
articles it lists under ``"dev"`` are reported apart from the others. Each group is reported in all
and per language. Run on the project's annotations (the training articles) by default:

    python benchmarks/attribution_accuracy.py [FOLDER ...] [--schema schema.json] [--errors]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from stance.attribution import attribute
from stance.records import Span
from stance.schema import Schema
from stance.segment import split_sentences
from stance.sources import SourceCounts, count_sources


def read_folder(folder: Path) -> tuple[dict[str, tuple[str, str, str]], list[Span]]:
    """``{article id: (group, language, text)}`` and the spans, without any held-out article."""
    metadata = [json.loads(line) for line in (folder / "articles.jsonl").read_text(encoding="utf-8").splitlines()
                if line.strip()]
    split_path = folder / "split.json"
    split = json.loads(split_path.read_text(encoding="utf-8")) if split_path.exists() else {}
    excluded = set(split.get("heldout", []))
    excluded |= {m["id"] for m in metadata if m.get("translation_of") in excluded}
    excluded |= {m["translation_of"] for m in metadata if m["id"] in excluded and m.get("translation_of")}
    articles = {}
    for meta in metadata:
        if meta["id"] not in excluded:
            with open(folder / "articles" / f"{meta['id']}.txt", encoding="utf-8", newline="") as handle:
                group = "dev" if meta["id"] in split.get("dev", []) else folder.name
                articles[meta["id"]] = (group, meta.get("language"), handle.read())
    spans = [Span.from_dict(json.loads(line)) for line in (folder / "spans.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]
    return articles, [span for span in spans if span.article in articles]


def measure(folder: Path, schema: Schema, errors: bool = False) -> dict[tuple[str, str], Counter]:
    """Counts per group and language (and ``all``): positions, speakers right, source counts."""
    articles, spans = read_folder(folder)
    counts: dict[tuple[str, str], Counter] = {}
    stance_index = {name: i for i, name in enumerate(schema.stance_names)}
    for aid, (group, language, text) in articles.items():
        sentences = split_sentences(text)
        attributions = attribute(text, sentences, schema, language)
        mine = [span for span in spans if span.article == aid]
        sources = count_sources(sentences, mine, attributions)
        positions: dict[int, dict[tuple[str, str], str]] = {}
        for span in mine:
            for index, sentence in enumerate(sentences):
                if sentence.start < span.end and span.start < sentence.end:
                    positions.setdefault(index, {})[(span.speaker, span.stance)] = span.source.text if span.source else "-"
        row = Counter(vars(sources))
        for index, held in sorted(positions.items()):
            predicted = {}
            for _, stance in held:
                found = attributions[index].source_of(stance_index[stance])
                predicted[stance] = (found.speaker if found else schema.voice, found.text if found else "-")
            row.update(positions=len(held), speaker_right=sum(sp == predicted[st][0] for sp, st in held))
            if errors and any(sp != predicted[st][0] for sp, st in held):
                gold_text = "; ".join(f"{st} {sp} <{mention}>" for (sp, st), mention in held.items())
                guess = "; ".join(f"{st} {sp} <{text}>" for st, (sp, text) in predicted.items())
                print(f"  {aid}#{index}: predicted {guess} gold {gold_text} | {sentences[index].text[:110]}")
        for key in ((group, language), (group, "all")):
            counts.setdefault(key, Counter()).update(row)
    return counts


def report(counts: dict[tuple[str, str], Counter]) -> None:
    for group, language in sorted(counts, key=lambda key: (key[0], key[1] != "all", key[1])):
        c = counts[group, language]
        line = f"{group} [{language}] gold positions {c['positions']}: speaker agreement " \
               f"{c['speaker_right'] / max(c['positions'], 1):.3f} ({c['speaker_right']}/{c['positions']})"
        figures = SourceCounts(c["predicted"], c["right"], c["gold"], c["found"]).figures()
        if figures:
            line += (f"; source precision {figures['precision']:.3f} ({c['right']}/{c['predicted']}) recall "
                     f"{figures['recall']:.3f} ({c['found']}/{c['gold']}) F1 {figures['f1']:.3f}")
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, default=[REPO / "annotations"])
    parser.add_argument("--schema", type=Path, help="schema.json (default: the folder's, else the project's)")
    parser.add_argument("--errors", action="store_true", help="list the sentences whose speaker is wrong")
    args = parser.parse_args()
    for folder in args.folders:
        schema_path = args.schema or next(p for p in (folder / "schema.json", REPO / "annotations" / "schema.json")
                                          if p.exists())
        report(measure(folder, Schema.load(schema_path), args.errors))


if __name__ == "__main__":
    main()
