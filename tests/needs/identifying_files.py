"""Real files that carry an owner's name in every hiding place we know of,
built with pikepdf and Pillow, and a check that a name is gone from a file
(parsed with pikepdf/Pillow and searched byte by byte, also inside every
decompressed stream)."""

from __future__ import annotations

import io
import struct
import zlib

import pikepdf
from PIL import Image, PngImagePlugin


def _encodings(name: str) -> list[bytes]:
    out = [name.encode("utf-8"), name.encode("utf-16-be"), name.encode("utf-16-le")]
    if name.isascii():
        out.append("".join(f"#{ord(c):02x}" if c.isalpha() else c for c in name).encode())  # #-escaped
    return out


def assert_name_absent(data: bytes, names: tuple[str, ...]) -> None:
    """By raw bytes, and in each stream's decoded bytes when it is a PDF."""
    chunks = [data]
    if data.startswith(b"%PDF"):
        with pikepdf.open(io.BytesIO(data)) as pdf:
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Stream):
                    try:
                        chunks.append(obj.read_bytes())
                    except pikepdf.PdfError:
                        chunks.append(obj.read_raw_bytes())
    for chunk in chunks:
        low = chunk.lower()
        for name in names:
            for enc in _encodings(name):
                assert enc.lower() not in low, (name, enc)


def rich_pdf(names: tuple[str, ...], *, page_text: str = "Specification of the part") -> bytes:
    """A PDF whose properties sit in compressed object streams, with XMP, an
    annotation author, an embedded file, JavaScript and page-piece data."""
    ja, en = names[0], names[1]
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(300, 300))
    page = pdf.pages[0]
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                BaseFont=pikepdf.Name.Helvetica))
    page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.obj.Contents = pdf.make_stream(f"BT /F1 12 Tf 20 200 Td ({page_text}) Tj ET".encode())
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = [en]
        meta["dc:title"] = f"{ja} spec"
        meta["pdf:Producer"] = en
    pdf.docinfo["/Author"] = ja
    pdf.docinfo["/Subject"] = f"{ja}の仕様"
    pdf.docinfo["/Keywords"] = en
    pdf.docinfo["/Creator"] = f"Word ({en})"
    pdf.docinfo["/Company"] = en
    pdf.docinfo[pikepdf.Name("/SourceModified")] = ja
    annot = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Text, Rect=[10, 10, 30, 30], T=en,
        Contents="please check", NM=f"{en}-note"))
    page.obj.Annots = pdf.make_indirect(pikepdf.Array([annot]))
    page.obj.PieceInfo = pikepdf.Dictionary(Illustrator=pikepdf.Dictionary(Private=pikepdf.String(en)))
    page.obj.Thumb = pdf.make_stream(en.encode())
    spec = pikepdf.AttachedFileSpec(pdf, f"{en} internal memo".encode(), filename=f"{en}.txt", description=ja)
    pdf.attachments[f"{en}.txt"] = spec
    js = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String(f"app.alert('{en}')")))
    pdf.Root.OpenAction = js
    pdf.Root.Names.JavaScript = pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("x"), js]))
    out = io.BytesIO()
    pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate, compress_streams=True)
    data = out.getvalue()
    assert b"/Subject" not in data and b"/ObjStm" in data  # the properties sit in compressed object streams
    return data


def escaped_pdf(en: str) -> bytes:
    """A hand-written PDF: #-escaped key names, an incremental update holding
    the old author and trailing data after %%EOF."""
    def hexname(n: str) -> str:
        return "/" + "".join(f"#{ord(c):02X}" for c in n)

    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        f"<< {hexname('Author')} ({en}) /C#6Fmpany ({en}) {hexname('Title')} ({en}) >>".encode(),
    ]
    body = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(body))
        body += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(body)
    body += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    body += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    body += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R /Info 4 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return body + f"% {en} was here\n".encode()


def jpeg_with_exif(en: str) -> bytes:
    """Progressive JPEG: Exif and XMP in APP segments, a comment, an Exif
    segment after the first scan, and trailing data after EOI."""
    img = Image.new("RGB", (64, 48), (30, 120, 200))
    exif = Image.Exif()
    exif[0x013B] = en      # Artist
    exif[0x8298] = en      # Copyright
    exif[0x010E] = en      # ImageDescription
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes(), progressive=True, comment=en.encode(), quality=90)
    data = out.getvalue()
    xmp = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><dc:creator>" + en.encode() + b"</dc:creator></x:xmpmeta>"
    app1 = b"\xff\xe1" + struct.pack(">H", len(xmp) + 2) + xmp
    data = data[:2] + app1 + data[2:]
    first_sos = data.index(b"\xff\xda")
    second_sos = data.index(b"\xff\xda", first_sos + 2)
    late = b"Exif\x00\x00" + en.encode() * 2
    late_seg = b"\xff\xe1" + struct.pack(">H", len(late) + 2) + late
    data = data[:second_sos] + late_seg + data[second_sos:]
    Image.open(io.BytesIO(data)).load()  # still a valid image
    return data + b"TRAILER " + en.encode()


def _chunk(ctype: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + ctype + payload + struct.pack(">I", zlib.crc32(ctype + payload))


def png_with_chunks(en: str) -> bytes:
    """PNG with an iCCP profile named after the firm, tEXt/zTXt/iTXt, an unknown
    chunk, and trailing data after IEND."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", en)
    info.add_text("Comment", en, zip=True)
    info.add_itxt("Copyright", en, lang="en", tkey="Copyright")
    out = io.BytesIO()
    Image.new("RGBA", (20, 10), (10, 200, 30, 255)).save(out, "PNG", pnginfo=info)
    data = out.getvalue()
    ihdr_end = 8 + 25
    profile = zlib.compress(b"\x00" * 128 + en.encode())
    iccp = _chunk(b"iCCP", en.encode()[:79] + b"\x00\x00" + profile)
    unknown = _chunk(b"prVt", en.encode())
    data = data[:ihdr_end] + iccp + unknown + data[ihdr_end:]
    return data + en.encode()

