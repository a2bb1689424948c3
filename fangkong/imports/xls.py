"""Formula cells in a legacy .xls (BIFF8 in an OLE compound file), without a dependency.

python-calamine returns the cached value of a formula and cannot say that a cell is one, so
the engine looks for FORMULA/ARRAY/SHRFMLA records in the worksheet's BIFF substream. The
compound file is read just far enough to get the Workbook stream (header, FAT, directory,
mini stream).
"""

from __future__ import annotations

import struct

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
END_OF_CHAIN = 0xFFFFFFFE
FREE_SECTOR = 0xFFFFFFFF
MAX_REGULAR = 0xFFFFFFFA

BOF, EOF, BOUNDSHEET = 0x0809, 0x000A, 0x0085
FORMULA_RECORDS = frozenset({0x0006, 0x0406, 0x0221, 0x04BC})


class NotOle(ValueError):
    pass


def _chain(fat: list[int], start: int, limit: int) -> list[int]:
    sectors: list[int] = []
    sector = start
    while sector <= MAX_REGULAR and len(sectors) <= limit:
        sectors.append(sector)
        sector = fat[sector] if sector < len(fat) else END_OF_CHAIN
    return sectors


def workbook_stream(data: bytes) -> bytes:
    """The BIFF 'Workbook' (or BIFF5 'Book') stream of an OLE compound file."""
    if not data.startswith(OLE_MAGIC) or len(data) < 512:
        raise NotOle("not an OLE compound file")
    sector_size = 1 << struct.unpack_from("<H", data, 0x1E)[0]
    mini_size = 1 << struct.unpack_from("<H", data, 0x20)[0]
    (first_dir,) = struct.unpack_from("<I", data, 0x30)
    (cutoff,) = struct.unpack_from("<I", data, 0x38)
    (first_minifat,) = struct.unpack_from("<I", data, 0x3C)
    (first_difat, difat_count) = struct.unpack_from("<II", data, 0x44)
    limit = len(data) // sector_size + 1

    def sector(n: int) -> bytes:
        offset = (n + 1) * sector_size
        return data[offset : offset + sector_size]

    fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s <= MAX_REGULAR]
    difat = first_difat
    for _ in range(difat_count):
        if difat > MAX_REGULAR:
            break
        entries = struct.unpack(f"<{sector_size // 4}I", sector(difat))
        fat_sectors.extend(s for s in entries[:-1] if s <= MAX_REGULAR)
        difat = entries[-1]
    fat: list[int] = []
    for n in fat_sectors:
        fat.extend(struct.unpack(f"<{sector_size // 4}I", sector(n)))

    def read(start: int, size: int) -> bytes:
        return b"".join(sector(n) for n in _chain(fat, start, limit))[:size]

    directory = b"".join(sector(n) for n in _chain(fat, first_dir, limit))
    entries = []
    for offset in range(0, len(directory) - 127, 128):
        name_length = struct.unpack_from("<H", directory, offset + 64)[0]
        name = directory[offset : offset + max(0, name_length - 2)].decode("utf-16-le", "ignore")
        kind = directory[offset + 66]
        start, size = struct.unpack_from("<IQ", directory, offset + 116)
        if sector_size == 512:
            size &= 0xFFFFFFFF
        entries.append((name, kind, start, size))
    root = next((e for e in entries if e[1] == 5), None)
    stream = next((e for e in entries if e[1] == 2 and e[0] in ("Workbook", "Book")), None)
    if stream is None:
        raise NotOle("no Workbook stream")
    _name, _kind, start, size = stream
    if size >= cutoff or root is None:
        return read(start, size)
    mini_stream = read(root[2], root[3])
    minifat_bytes = b"".join(sector(n) for n in _chain(fat, first_minifat, limit))
    minifat = list(struct.unpack(f"<{len(minifat_bytes) // 4}I", minifat_bytes))
    chunks = [
        mini_stream[n * mini_size : (n + 1) * mini_size]
        for n in _chain(minifat, start, len(mini_stream) // mini_size + 1)
    ]
    return b"".join(chunks)[:size]


def _records(stream: bytes, offset: int = 0):  # type: ignore[no-untyped-def]
    while offset + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, offset)
        yield offset, kind, stream[offset + 4 : offset + 4 + length]
        offset += 4 + length


def _sheet_offsets(stream: bytes) -> dict[str, int]:
    """Sheet name -> offset of its BOF, from the BOUNDSHEET records of the globals."""
    sheets: dict[str, int] = {}
    for _offset, kind, body in _records(stream):
        if kind == EOF:
            break
        if kind == BOUNDSHEET and len(body) >= 8:
            (position,) = struct.unpack_from("<I", body, 0)
            length, flags = body[6], body[7]
            raw = body[8:]
            name = (
                raw[: length * 2].decode("utf-16-le", "ignore")
                if flags & 1
                else raw[:length].decode("latin-1")
            )
            sheets[name] = position
    return sheets


def biff_has_formula(data: bytes, sheet_name: str | None = None) -> bool:
    """True when the worksheet (the first with `sheet_name`, else any) has a formula cell."""
    try:
        stream = workbook_stream(data)
    except (NotOle, struct.error, IndexError):
        return False
    offsets = _sheet_offsets(stream)
    starts = [offsets[sheet_name]] if sheet_name in offsets else list(offsets.values())
    for start in starts:
        for _offset, kind, _body in _records(stream, start):
            if kind in FORMULA_RECORDS:
                return True
            if kind == EOF:
                break
    return False
