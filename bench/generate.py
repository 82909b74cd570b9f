"""Generate a deterministic tree of synthetic Markdown pages for benchmarks.

Two kinds: `clinic` (the default), treatment pages like the seed (a carousel, a few
paragraphs, a list of indications); and `docs`, reference pages like a documentation
repository's (a `docfx.json` beside them, so CommonMark; headings, prose thick with inline
code and links to other pages, fenced code, tables and lists), sized so that a page costs
to load what a page of MicrosoftDocs/cpp-docs does (`bench/calibrate.py` measures both).
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import date, timedelta
from pathlib import Path

LAYOUTS: tuple[str, ...] = (
    "Skin Treatment",
    "Body Contouring",
    "Hair",
    "Facial Aesthetics",
    "Injectables",
    "Laser Treatment",
    "Anti-Ageing",
    "Wellness",
    "Massage",
    "Homeopathy",
    "Nutrition",
    "Detox",
)

TITLE_MODIFIERS: tuple[str, ...] = (
    "",
    "",
    "",
    "Advanced",
    "Express",
    "Homeopathic",
    "Organic",
    "Deep",
    "Gentle",
    "Intensive",
    "Classic",
    "Signature",
    "Medical",
    "Natural",
    "Micro",
    "Revitalising",
    "Targeted",
    "Holistic",
    "Clinical",
    "Luxury",
    "Non-Surgical",
    "Combined",
    "Seasonal",
    "Restorative",
)

TITLE_TECHNIQUES: tuple[str, ...] = (
    "Mesotherapy",
    "Microneedling",
    "Carboxytherapy",
    "Radiofrequency",
    "Cryolipolysis",
    "Lymphatic Drainage",
    "Chemical Peel",
    "Microdermabrasion",
    "Oxygen Facial",
    "Hydrafacial",
    "Ultrasound Lifting",
    "Thread Lift",
    "Dermal Fillers",
    "Skin Boosters",
    "PRP Therapy",
    "LED Light Therapy",
    "Cavitation",
    "Endermologie",
    "Laser Resurfacing",
    "IPL Photofacial",
    "Biorevitalisation",
    "Cupping",
    "Acupuncture",
    "Reflexology",
    "Ozone Therapy",
    "Vitamin Infusion",
    "Collagen Induction",
    "Facial Massage",
    "Body Wrap",
    "Pressotherapy",
    "Electroporation",
    "Plasma Pen",
    "Galvanic Facial",
    "Scalp Therapy",
    "Hair Mesotherapy",
    "Enzyme Peel",
    "Dermaplaning",
    "Iontophoresis",
    "Hot Stone Massage",
    "Cellulite Massage",
)

TITLE_TARGETS: tuple[str, ...] = (
    "",
    "",
    "",
    "",
    "for Face",
    "for Neck",
    "for Hands",
    "for Scalp",
    "for Eyes",
    "for Abdomen",
    "for Thighs",
    "for Arms",
    "for Decolletage",
    "for Men",
    "for Acne",
    "for Rosacea",
    "for Cellulite",
    "for Pigmentation",
    "for Scars",
    "for Wrinkles",
    "for Hair Loss",
    "for Stretch Marks",
    "Treatment",
    "Programme",
    "Course",
)

CONDITIONS: tuple[str, ...] = (
    "Facelift",
    "Redundant (sagging) skin",
    "Hand rejuvenation",
    "Neck rejuvenation",
    "Hair loss",
    "Cellulite",
    "Dissolving excess fatty deposits",
    "Removing fibroids and hardened connective tissue",
    "Improving lymphatic drainage",
    "Reducing inflammation",
)

BODY_PARTS: tuple[str, ...] = (
    "face",
    "neck",
    "hands",
    "scalp",
    "eyes",
    "abdomen",
    "thighs",
    "upper arms",
    "knees",
    "buttocks",
    "decolletage",
    "back",
    "chin",
    "jawline",
    "forehead",
    "cheeks",
)

INDICATION_BASES: tuple[str, ...] = (
    "Redundant (sagging) skin",
    "Fine lines",
    "Deep wrinkles",
    "Pigmentation",
    "Acne scarring",
    "Stretch marks",
    "Cellulite",
    "Dry skin",
    "Enlarged pores",
    "Uneven skin tone",
    "Loss of volume",
    "Puffiness",
    "Dark circles",
    "Broken capillaries",
    "Excess fat",
    "Fluid retention",
    "Dull complexion",
    "Loss of elasticity",
    "Thinning hair",
    "Muscle tension",
)

INDICATION_AREAS: tuple[str, ...] = (
    "face",
    "neck",
    "hands",
    "abdomen",
    "thighs",
    "upper arms",
    "decolletage",
    "back",
)

INDICATION_QUALIFIERS: tuple[str, ...] = (
    "mild",
    "moderate",
    "age-related",
    "post-pregnancy",
    "sun-induced",
    "hormonal",
    "stubborn",
    "chronic",
)

INDICATION_ACTIONS: tuple[str, ...] = (
    "rejuvenation",
    "tightening",
    "contouring",
    "lifting",
    "hydration",
    "detox",
)

PARAGRAPH_OPENERS: tuple[str, ...] = (
    "{title} is a treatment to improve the condition of the {part} and to combat {c1}, {c2} "
    "and many others.",
    "{title} is one of the most requested procedures in our clinic for {c1} and {c2}.",
    "Our {title_lower} sessions are designed for people who want visible results without "
    "surgery or downtime.",
    "{title} combines {subst} with {method} to restore a {adj} look to the {part}.",
    "Many of our patients choose {title_lower} after trying creams and home remedies with "
    "little success.",
)

SENTENCES: tuple[str, ...] = (
    "This method helps skin look {adj}, {adj2} and better toned.",
    "It is a procedure for people who are looking for a healthy and natural, not chemical "
    "approach to health and a good appearance without any side effects.",
    "The treatment involves delivering microscopic quantities of {subst} into the {layer}, to "
    "deliver healing or corrective treatment.",
    "The substances used include {subst} and {subst2}, which are necessary to keep cells in "
    "peak condition.",
    "They boost the production of the cell’s own collagen, which declines with age, increase "
    "blood flow and lymphatic drainage.",
    "In other words they regulate the function of the cell, protect it from attack and prolong "
    "its life.",
    "Each session includes {method}, massage and other painless procedures depending on the "
    "condition of the {part}.",
    "Positive results can be seen after, on average, {n1} to {n2} sessions.",
    "For certain conditions you may see results immediately.",
    "Treatment should be repeated {freq}, over a period of {w1}-{w2} weeks, after the required "
    "results are achieved.",
    "However, this period will vary according to each patient’s responses and age.",
    "The method was first developed in {country} in {year} and was later adapted for aesthetic "
    "conditions.",
    "It became extremely successful in this area and is now offered by clinics all over the world.",
    "Before the first session our practitioner will assess your {part} and discuss what you’d "
    "like to achieve.",
    "A typical appointment lasts around {mins} minutes and you can return to normal activities "
    "straight away.",
    "Some patients notice slight redness or tenderness, which usually settles within {hours} "
    "hours.",
    "We recommend drinking plenty of water and avoiding saunas for a day after the procedure.",
    "The procedure is suitable for most skin types and can be combined with {method}.",
    "Patients often describe the feeling as “relaxing” rather than uncomfortable.",
    "“{word}” in {language} means “{meaning}”, which describes the idea behind the method well.",
    "Results are gradual and natural, so friends will notice you look “well rested” rather "
    "than “done”.",
    "The {layer} responds particularly well to {subst}, which is why the effect lasts for months.",
    "It can also be used as a preventive measure from your late twenties onwards.",
    "Our practitioners trained at the international homeopathic conference in {year} and keep "
    "their skills up to date.",
    "Please let us know about any medication you’re taking before the course begins.",
)

HEADINGS: tuple[str, ...] = (
    "The Method",
    "How It Works",
    "What to Expect",
    "Results",
    "Aftercare",
    "Who Is It For?",
    "Safety and Side Effects",
    "History",
    "Your First Visit",
    "Frequently Asked Questions",
)

ADJECTIVES: tuple[str, ...] = (
    "younger",
    "radiant",
    "firmer",
    "smoother",
    "fresher",
    "healthier",
    "brighter",
    "more even",
    "plumper",
    "more supple",
)

SUBSTANCES: tuple[str, ...] = (
    "homeopathic medicine",
    "antioxidants",
    "vitamins",
    "hyaluronic acid",
    "amino acids",
    "peptides",
    "plant extracts",
    "trace minerals",
    "cellular revitalisation ingredients",
    "organic silicon",
)

METHODS: tuple[str, ...] = (
    "lymphatic drainage",
    "gentle massage",
    "a soothing mask",
    "LED light",
    "cold compresses",
    "facial gymnastics",
    "a deep cleanse",
)

LAYERS: tuple[str, ...] = (
    "mesoderm, the layer of fat and connective tissue under the skin",
    "dermis",
    "superficial fat layer",
    "connective tissue",
    "scalp",
)

COUNTRIES: tuple[str, ...] = ("France", "Italy", "Germany", "Switzerland", "Austria", "Spain")
WORDS: tuple[tuple[str, str, str], ...] = (
    ("MESO", "Greek", "Middle"),
    ("DERMA", "Greek", "Skin"),
    ("LYMPHA", "Latin", "Water"),
    ("VITA", "Latin", "Life"),
    ("CRYO", "Greek", "Cold"),
)
FREQUENCIES: tuple[str, ...] = ("annually", "twice a year", "every few months", "each season")

CAPTIONS: tuple[str, ...] = (
    "Liona XXX",
    "At international homeopathic conference 2017",
    "Our treatment room",
    "Before and after",
    "The clinic in London",
    "During a session",
)
ALTS: tuple[str, ...] = (
    "a sample image",
    "and another sample image",
    "treatment in progress",
    "clinic interior",
    "practitioner at work",
)

CAROUSEL_HEAD = """<amp-carousel class="carousel-black__bg"  height="300"
  layout="fixed-height"
  type="carousel"
  role="region"
  background-color="hsl(0, 0%, 0%)"
  aria-label="Basic usage carousel">
"""

IMAGE_TEMPLATE = """  <amp-img src="\\img\\pages\\{name}.jpg"
    width="{width}"
    height="{height}"
    title="{title}"
    alt="{alt}"></amp-img>
"""


def build_indications() -> list[str]:
    """Return the shared, deterministic pool of ~300 indication names."""
    names: list[str] = list(CONDITIONS)
    for part in BODY_PARTS:
        for action in INDICATION_ACTIONS:
            names.append(f"{part.capitalize()} {action}")
    for base in INDICATION_BASES:
        for qualifier in INDICATION_QUALIFIERS[:5]:
            names.append(f"{base} ({qualifier})")
    for base in INDICATION_BASES[:12]:
        for part in INDICATION_AREAS:
            names.append(f"{base} on the {part}")
    pool = list(dict.fromkeys(names))
    random.Random("indications").shuffle(pool)
    return pool[:300]


INDICATIONS: list[str] = build_indications()


def slugify(text: str) -> str:
    """Return a lowercase underscore slug suitable for an image file name."""
    chars = [c.lower() if c.isalnum() else "_" for c in text]
    return "_".join(part for part in "".join(chars).split("_") if part)


def make_titles(rng: random.Random, count: int) -> list[str]:
    """Return `count` unique, plausible treatment titles."""
    titles: list[str] = []
    seen: set[str] = set()
    attempts = 0
    while len(titles) < count:
        attempts += 1
        parts = (rng.choice(TITLE_MODIFIERS), rng.choice(TITLE_TECHNIQUES))
        title = " ".join(p for p in (*parts, rng.choice(TITLE_TARGETS)) if p)
        if title in seen:
            if attempts < count * 20:
                continue
            title = f"{title} {len(titles) + 1}"
        seen.add(title)
        titles.append(title)
    return titles


def fill(template: str, rng: random.Random, title: str) -> str:
    """Fill a sentence template with random clinic vocabulary."""
    n1 = rng.randint(1, 4)
    w1 = rng.randint(2, 6)
    word, language, meaning = rng.choice(WORDS)
    adj, adj2 = rng.sample(ADJECTIVES, 2)
    subst, subst2 = rng.sample(SUBSTANCES, 2)
    c1, c2 = rng.sample(CONDITIONS[4:], 2)
    return template.format(
        title=title,
        title_lower=title.lower(),
        part=rng.choice(BODY_PARTS),
        c1=c1.lower(),
        c2=c2.lower(),
        subst=subst,
        subst2=subst2,
        method=rng.choice(METHODS),
        adj=adj,
        adj2=adj2,
        layer=rng.choice(LAYERS),
        n1=n1,
        n2=n1 + rng.randint(1, 4),
        w1=w1,
        w2=w1 + rng.randint(2, 4),
        freq=rng.choice(FREQUENCIES),
        country=rng.choice(COUNTRIES),
        year=rng.randint(1950, 2019),
        mins=rng.choice((30, 45, 60, 75, 90)),
        hours=rng.choice((12, 24, 48)),
        word=word,
        language=language,
        meaning=meaning,
    )


def make_paragraph(rng: random.Random, title: str, first: bool) -> str:
    """Return one paragraph of 3-6 sentences, sometimes split over lines like the seed."""
    sentences: list[str] = []
    if first:
        sentences.append(fill(rng.choice(PARAGRAPH_OPENERS), rng, title))
    for template in rng.sample(SENTENCES, rng.randint(3, 6)):
        sentences.append(fill(template, rng, title))
    out = sentences[0]
    for sentence in sentences[1:]:
        out += ("\n" if rng.random() < 0.3 else " ") + sentence
    return out


def make_front_matter(rng: random.Random, title: str) -> str:
    """Return YAML front matter with the seed's blank line before the closing fence."""
    lines = ["---", f"title: {title}", f"layout: {rng.choice(LAYOUTS)}"]
    if rng.random() < 0.6:
        day = date(2015, 1, 1) + timedelta(days=rng.randint(0, 3650))
        lines.append(f"date: {day.isoformat()}")
    if rng.random() < 0.5:
        adj = rng.choice(ADJECTIVES)
        about = f"Help your skin look {adj} with {title.lower()} at our London clinic"
        lines.append(f"description: {about}")
    if rng.random() < 0.4:
        lines.append(f"order: {rng.randint(1, 100)}")
    if rng.random() < 0.05:
        lines.append("draft: true")
    lines += ["", "---", ""]
    return "\n".join(lines) + "\n"


def make_carousel(rng: random.Random, title: str) -> str:
    """Return an amp-carousel block with 1-3 amp-img elements in the seed's shape."""
    slug = slugify(title)
    images = []
    for i in range(rng.randint(1, 3)):
        suffix = "" if i == 0 else str(i + 1)
        images.append(
            IMAGE_TEMPLATE.format(
                name=f"{slug}_london{suffix}",
                width=rng.choice((400, 400, 600, 800)),
                height=300,
                title=rng.choice(CAPTIONS),
                alt=rng.choice(ALTS),
            )
        )
    return CAROUSEL_HEAD + "".join(images) + "\n</amp-carousel>\n\n\n"


def make_page(rng: random.Random, title: str) -> str:
    """Return the full Markdown text of one synthetic treatment page."""
    paragraphs = [make_paragraph(rng, title, i == 0) for i in range(rng.randint(3, 6))]
    headings = rng.sample(HEADINGS, rng.randint(1, 2))
    positions = sorted(rng.sample(range(1, len(paragraphs)), len(headings)))
    for offset, (pos, heading) in enumerate(zip(positions, headings, strict=True)):
        paragraphs.insert(pos + offset, f"#### {heading}")
    items = "".join(f"* {name}\n" for name in rng.sample(INDICATIONS, rng.randint(4, 12)))
    body = "\n\n".join(paragraphs)
    return (
        make_front_matter(rng, title)
        + make_carousel(rng, title)
        + body
        + f"\n\n\n##### {title} also can help with:\n\n"
        + items
    )


def page_path(rng: random.Random, index: int) -> Path:
    """Return the relative path of page `index`, spread over root, group and nested folders."""
    name = f"treatment-{index:05d}.md"
    roll = rng.random()
    if roll < 0.1:
        return Path(name)
    group = Path(f"group-{rng.randrange(8):02d}")
    if roll < 0.2:
        return group / "archive" / name
    return group / name


# Docs pages: the vocabulary of a C++ reference, and the shape of cpp-docs' pages
# (measured over its 9,746 files at a2e592a8fc: 4.6 KB a page on average, median 1.8 KB;
# per page on average 10.9 headings, 21.6 inline code spans, 10.6 links, 3.5 fences).
KINDS = ("clinic", "docs")
DOCS_AREAS: tuple[str, ...] = (
    "atl", "build", "c-runtime-library", "code-quality", "cpp", "cppcx", "mfc", "parallel",
    "standard-library", "windows",
)  # fmt: skip
DOCS_NAMES: tuple[str, ...] = (
    "vector", "basic_string", "unique_ptr", "shared_ptr", "thread", "mutex", "allocator",
    "CWnd", "CString", "CComPtr", "_beginthreadex", "printf_s", "strcpy_s", "malloc",
    "constexpr", "decltype", "noexcept", "std::move", "std::forward", "/permissive-",
    "/std:c++20", "/EHsc", "__declspec", "#pragma once", "LNK2019", "C2440", "HRESULT",
)  # fmt: skip
DOCS_WORDS: tuple[str, ...] = (
    "the", "function", "returns", "a", "pointer", "to", "value", "of", "type", "when",
    "compiler", "option", "specifies", "that", "is", "called", "in", "object", "an", "error",
    "for", "each", "element", "and", "template", "argument", "class", "member", "header",
    "library", "runtime", "debug", "release", "build", "project", "Visual", "Studio",
)  # fmt: skip
DOCS_CODE: tuple[str, ...] = (
    "#include <vector>", "#include <iostream>", "using namespace std;", "int main()", "{",
    "    vector<int> v{ 1, 2, 3 };", "    for (auto& x : v) { x *= 2; }",
    "    cout << v.size() << endl;", "    return 0;", "}", "// Compile with: /EHsc /W4",
    "template <class T> T twice(const T& t) { return t + t; }",
)  # fmt: skip


# Sections a docs page has past the first, on average: calibrated (bench/calibrate.py).
SECTIONS_MEAN = 3.8


def _docs_sentence(rng: random.Random, links: list[str]) -> str:
    words = rng.choices(DOCS_WORDS, k=rng.randint(8, 18))
    for _ in range(rng.randint(1, 3)):
        words.insert(rng.randrange(len(words)), f"`{rng.choice(DOCS_NAMES)}`")
    if rng.random() < 0.5:
        name = rng.choice(DOCS_NAMES)
        words.insert(rng.randrange(len(words)), f"[{name}]({rng.choice(links)})")
    if rng.random() < 0.15:
        words.insert(rng.randrange(len(words)), "**Note**")
    sentence = " ".join(words)
    return sentence[0].upper() + sentence[1:] + "."


def _docs_section(rng: random.Random, links: list[str]) -> str:
    parts = [f"## {rng.choice(DOCS_NAMES)} {rng.choice(DOCS_WORDS)}"]
    parts.append(" ".join(_docs_sentence(rng, links) for _ in range(rng.randint(2, 5))))
    roll = rng.random()
    if roll < 0.45:
        lines = rng.choices(DOCS_CODE, k=rng.randint(5, 16))
        parts.append("```cpp\n" + "\n".join(lines) + "\n```")
    elif roll < 0.6:
        rows = [f"| `{rng.choice(DOCS_NAMES)}` | {_docs_sentence(rng, links)} |" for _ in range(4)]
        parts.append("| Name | Description |\n|---|---|\n" + "\n".join(rows))
    elif roll < 0.85:
        items = [f"- {_docs_sentence(rng, links)}" for _ in range(rng.randint(3, 7))]
        parts.append("\n".join(items))
    if rng.random() < 0.5:
        parts.append("### Remarks\n\n" + _docs_sentence(rng, links))
    return "\n\n".join(parts)


def docs_page_path(index: int) -> Path:
    """The path of docs page `index`: a folder per area, as a docs repository keeps them."""
    return Path(DOCS_AREAS[index % len(DOCS_AREAS)]) / f"topic-{index:05d}.md"


def make_docs_page(rng: random.Random, index: int, count: int) -> str:
    """Return the full Markdown text of one synthetic reference page."""
    title = f"{rng.choice(DOCS_NAMES)} {rng.choice(DOCS_WORDS)} {index}"
    here = docs_page_path(index).parent
    links = ["https://learn.microsoft.com/cpp/", "#remarks"]
    for other in rng.sample(range(1, count + 1), min(count, 4)):
        target = docs_page_path(other)
        links.append(
            f"../{target.parent.name}/{target.name}" if target.parent != here else target.name
        )
    # Most pages are short and a few long, as in cpp-docs (median 1.8 KB, mean 4.6 KB).
    sections = 1 + min(int(rng.expovariate(1 / SECTIONS_MEAN)), 40)
    front = (
        f'---\ntitle: "{title}"\ndescription: "Learn more about: {title}"\n'
        f"ms.date: 0{rng.randint(1, 9)}/1{rng.randint(0, 9)}/2023\n"
        f'helpviewer_keywords: ["{rng.choice(DOCS_NAMES)}", "{rng.choice(DOCS_NAMES)}"]\n---\n'
    )
    intro = " ".join(_docs_sentence(rng, links) for _ in range(rng.randint(1, 3)))
    body = "\n\n".join(_docs_section(rng, links) for _ in range(sections))
    return f"{front}# {title}\n\n{intro}\n\n{body}\n"


def write_pages(target: Path, count: int, seed: int = 1, kind: str = "clinic") -> int:
    """Write `count` pages of `kind` under `target` and return the total number of bytes
    written."""
    rng = random.Random(seed)
    target.mkdir(parents=True, exist_ok=True)
    total = 0
    if kind == "docs":
        # DocFX's configuration: the folder is read as CommonMark, as cpp-docs is.
        (target / "docfx.json").write_text('{"build": {"content": [{"files": ["**/*.md"]}]}}\n')
        pages = ((docs_page_path(i), make_docs_page(rng, i, count)) for i in range(1, count + 1))
    else:
        titles = make_titles(rng, count)
        pages = ((page_path(rng, i), make_page(rng, t)) for i, t in enumerate(titles, start=1))
    for relative, text in pages:
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8")
        path.write_bytes(data)
        total += len(data)
    return total


def generate(target: Path, count: int, seed: int = 1, kind: str = "clinic") -> None:
    """Write `count` deterministic synthetic pages of `kind` under `target`."""
    write_pages(target, count, seed, kind)


def main(argv: list[str] | None = None) -> int:
    """Run the command-line interface."""
    parser = argparse.ArgumentParser(description="Generate synthetic Markdown treatment pages.")
    parser.add_argument("dir", type=Path, help="output directory (must not exist or be empty)")
    parser.add_argument("--count", type=int, required=True, help="number of pages to write")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    parser.add_argument(
        "--kind",
        choices=KINDS,
        default="clinic",
        help="clinic treatment pages (default) or docs reference pages",
    )
    args = parser.parse_args(argv)
    target: Path = args.dir
    if args.count < 0:
        parser.error("--count must be zero or positive")
    if target.exists() and not target.is_dir():
        parser.error(f"{target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()):
        parser.error(f"{target} already exists and is not empty; choose a new directory")
    total = write_pages(target, args.count, args.seed, args.kind)
    print(f"wrote {args.count} pages ({total} bytes) to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
