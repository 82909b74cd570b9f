"""Draw the seed page's two carousel pictures (content/img/pages/mesotherapy_london*.jpg,
400x300 as its markup says) with Pillow: made here, not downloaded, and the same bytes on
every run (no randomness, fixed JPEG settings).

    .venv/bin/python scripts/draw-seed-images.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

OUT = Path(__file__).resolve().parent.parent / "content" / "img" / "pages"
SIZE = (400, 300)


def _gradient(top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    image = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(image)
    for y in range(SIZE[1]):
        t = y / (SIZE[1] - 1)
        draw.line(
            [(0, y), (SIZE[0], y)],
            fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    return image


def treatment_room() -> Image.Image:
    """A calm treatment room: a window of light, a couch, a plant."""
    image = _gradient((236, 226, 214), (196, 176, 156))
    draw = ImageDraw.Draw(image)
    draw.rectangle([40, 40, 170, 170], fill=(250, 246, 232), outline=(160, 140, 120), width=6)
    draw.line([(105, 40), (105, 170)], fill=(160, 140, 120), width=4)
    draw.line([(40, 105), (170, 105)], fill=(160, 140, 120), width=4)
    draw.rounded_rectangle([200, 170, 370, 230], radius=18, fill=(122, 150, 160))
    draw.rounded_rectangle([200, 140, 250, 200], radius=14, fill=(104, 132, 142))
    draw.rectangle([215, 230, 225, 262], fill=(90, 70, 55))
    draw.rectangle([345, 230, 355, 262], fill=(90, 70, 55))
    draw.polygon([(60, 262), (92, 262), (86, 220), (66, 220)], fill=(170, 96, 64))
    for dx, dy in ((-18, -30), (0, -44), (18, -30), (-8, -54), (10, -56)):
        draw.ellipse([76 + dx - 12, 220 + dy - 20, 76 + dx + 12, 220 + dy + 20], fill=(76, 128, 84))
    return image.filter(ImageFilter.SMOOTH)


def conference() -> Image.Image:
    """A conference hall: a stage, a screen, rows of seats."""
    image = _gradient((38, 52, 92), (16, 20, 36))
    draw = ImageDraw.Draw(image)
    draw.rectangle([90, 30, 310, 150], fill=(232, 236, 246))
    draw.rectangle([110, 50, 290, 70], fill=(70, 110, 170))
    for row in range(4):
        draw.rectangle([120, 85 + row * 14, 280 - row * 30, 92 + row * 14], fill=(150, 160, 180))
    draw.polygon([(0, 190), (400, 190), (400, 205), (0, 205)], fill=(120, 84, 52))
    for row in range(3):
        y = 222 + row * 26
        for x in range(12 + row * 6, 400, 34):
            draw.ellipse([x, y - 12, x + 16, y + 4], fill=(58, 62, 80))
            draw.rounded_rectangle([x - 4, y, x + 20, y + 18], radius=5, fill=(150, 40, 50))
    return image.filter(ImageFilter.SMOOTH)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, picture in (
        ("mesotherapy_london.jpg", treatment_room()),
        ("mesotherapy_london2.jpg", conference()),
    ):
        picture.save(OUT / name, "JPEG", quality=85, optimize=True, progressive=False)
        print(OUT / name, picture.size)


if __name__ == "__main__":
    main()
