"""Rebuilding attachments so that nothing but their visible content is kept.

No pattern search: each file is parsed by a maintained library and written
anew from the parts we decide to keep.

- Images (JPEG, PNG): Pillow decodes the pixels, which are re-encoded into a
  new file. Exif (wherever it sits), XMP, IPTC, comments, ICC profiles (and
  their names), text chunks, unknown chunks, extra frames and any trailing
  data are not carried over, because nothing but the pixel array is.
- PDF: pikepdf (qpdf) opens the document; the document information
  dictionary, every /Metadata stream (XMP, on the catalogue, pages, images
  and forms), page-piece dictionaries, thumbnails, embedded and associated
  files, JavaScript, document and page actions (/OpenAction, /AA) and the
  identity keys of annotations (author /T, /NM, dates, rich text, popups)
  are removed; then the file is written anew without object streams and
  without unreachable objects, previous revisions or trailing data.

A file that cannot be parsed or rebuilt (encrypted, damaged, a decompression
bomb) raises `CannotClean` with a message for the user; the caller refuses it.

`pdf_text` extracts the text of a PDF (pypdf) for the identifying-text check.
"""

from __future__ import annotations

import io
import logging
import warnings

import pikepdf
from flask_babel import gettext as _
from PIL import Image, ImageOps

log = logging.getLogger(__name__)

# Pixels we are willing to decode (a 10 MB upload cannot legitimately be larger).
MAX_PIXELS = 60_000_000


class CannotClean(Exception):
    """The file cannot be rebuilt safely; str(exc) is the message for the user."""


# --- images -------------------------------------------------------------------------

def _decode(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))
            if img.width * img.height > MAX_PIXELS:
                raise CannotClean(_("The image is too large (more than %(n)d million pixels).",
                                    n=MAX_PIXELS // 1_000_000))
            img.load()  # the first frame only
        except CannotClean:
            raise
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError,
                Image.DecompressionBombWarning) as exc:
            raise CannotClean(_("The image could not be read. Save it again as PNG or JPEG and upload it.")) from exc
    return img


def clean_image(data: bytes, content_type: str) -> bytes:
    """Re-encode the pixels of a JPEG or PNG image into a new file of the same type."""
    img = _decode(data)
    try:
        img = ImageOps.exif_transpose(img)  # keep the orientation the viewer saw, then drop Exif
    except Exception:
        log.debug("ignoring a broken Exif orientation", exc_info=True)
    if content_type == "image/jpeg":
        mode = img.mode if img.mode in ("L", "RGB", "CMYK") else "RGB"
        fmt, options = "JPEG", {"quality": 92, "optimize": True}
    elif content_type == "image/png":
        if img.mode == "P":
            mode = "RGBA" if "transparency" in img.info else "RGB"
        elif img.mode in ("1", "L", "LA", "RGB", "RGBA", "I;16", "I"):
            mode = img.mode
        else:
            mode = "RGBA"
        fmt, options = "PNG", {"optimize": False}
    else:
        raise CannotClean(_("This kind of image cannot be cleaned."))
    pixels = img.convert(mode) if img.mode != mode else img
    # A new image holding nothing but the pixel array: no info dict, no profile, no palette names.
    fresh = Image.frombytes(mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    fresh.save(out, fmt, **options)
    return out.getvalue()


# --- PDF ------------------------------------------------------------------------------

# Keys removed from every dictionary and stream of the document.
_DROP_EVERYWHERE = ("/Metadata", "/PieceInfo", "/Thumb", "/AA", "/AF", "/LastModified", "/JS")
# Keys removed from the document catalogue.
_DROP_FROM_CATALOG = ("/OpenAction", "/Collection", "/SpiderInfo", "/Perms", "/Legal", "/Threads", "/URI")
# Name-tree entries removed (the rest, e.g. named destinations, is kept).
_DROP_FROM_NAMES = ("/EmbeddedFiles", "/JavaScript", "/AlternatePresentations", "/Renditions", "/IDS", "/URLS")
# Identity keys of annotations: author, unique name, dates, rich text, popup, reply chains.
_ANNOT_IDENTITY = ("/T", "/NM", "/M", "/CreationDate", "/RC", "/Popup", "/IRT", "/RT", "/Subj", "/StructParent")
# Annotations that carry files, media or scripts are removed altogether.
_DROP_ANNOTS = ("/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia", "/3D", "/Popup", "/Projection")
# Actions that run code, fetch or submit data, or open other files.
_BAD_ACTIONS = ("/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToE", "/GoToR", "/Rendition",
                "/RichMediaExecute", "/Sound", "/Movie")


def _strip_keys(obj, keys) -> None:
    for key in keys:
        if key in obj:
            del obj[key]


def _is_bad_action(action) -> bool:
    return isinstance(action, pikepdf.Dictionary) and str(action.get("/S", "")) in _BAD_ACTIONS


def _walk(pdf: pikepdf.Pdf) -> None:
    """Strip unwanted keys from every object, direct or indirect (also those that
    were stored in compressed object streams: qpdf has already unpacked them)."""
    seen: set[tuple[int, int]] = set()
    stack = list(pdf.objects) + [pdf.Root]
    while stack:
        obj = stack.pop()
        if isinstance(obj, pikepdf.Stream | pikepdf.Dictionary):
            if obj.is_indirect:
                og = obj.objgen
                if og in seen:
                    continue
                seen.add(og)
            _strip_keys(obj, _DROP_EVERYWHERE)
            if _is_bad_action(obj.get("/A")):
                del obj["/A"]
            if _is_bad_action(obj.get("/Next")):
                del obj["/Next"]
            stack.extend(obj.get(k) for k in list(obj.keys()))
        elif isinstance(obj, pikepdf.Array):
            stack.extend(list(obj))


def _clean_annotations(pdf: pikepdf.Pdf) -> None:
    for page in pdf.pages:
        annots = page.obj.get("/Annots")
        if not isinstance(annots, pikepdf.Array):
            if annots is not None:
                del page.obj["/Annots"]
            continue
        kept = pikepdf.Array()
        for annot in annots:
            if not isinstance(annot, pikepdf.Dictionary) or str(annot.get("/Subtype", "")) in _DROP_ANNOTS:
                continue
            _strip_keys(annot, _ANNOT_IDENTITY)
            kept.append(annot)
        if len(kept):
            page.obj["/Annots"] = kept
        else:
            del page.obj["/Annots"]


def clean_pdf(data: bytes) -> bytes:
    """Rebuild a PDF without metadata, files, scripts or annotation authors."""
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError as exc:
        raise CannotClean(_("The PDF is password-protected. Save it without a password and upload it again.")) from exc
    except (pikepdf.PdfError, ValueError, OSError) as exc:
        raise CannotClean(_("The PDF could not be read. Save it again (e.g. “Print to PDF”) and upload it.")) from exc
    with pdf:
        if pdf.is_encrypted and not pdf.allow.modify_other:
            raise CannotClean(_("The PDF is protected against changes. Save it without protection and upload it again."))
        try:
            if "/Info" in pdf.trailer:
                del pdf.trailer["/Info"]
            root = pdf.Root
            _strip_keys(root, _DROP_FROM_CATALOG)
            names = root.get("/Names")
            if isinstance(names, pikepdf.Dictionary):
                _strip_keys(names, _DROP_FROM_NAMES)
            acroform = root.get("/AcroForm")
            if isinstance(acroform, pikepdf.Dictionary):
                _strip_keys(acroform, ("/XFA",))
            _clean_annotations(pdf)
            _walk(pdf)
            out = io.BytesIO()
            # Without object streams every remaining object is visible; qpdf writes only
            # objects reachable from the (new) trailer, so old revisions and orphans go.
            pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.disable, encryption=False,
                     fix_metadata_version=False, deterministic_id=True, linearize=False)
        except CannotClean:
            raise
        except Exception as exc:
            raise CannotClean(_("The PDF could not be cleaned. Save it again (e.g. “Print to PDF”) "
                                "and upload it.")) from exc
    cleaned = out.getvalue()
    _verify_pdf(cleaned)
    return cleaned


def _verify_pdf(data: bytes) -> None:
    """Open the result again and refuse it if anything we remove is still there."""
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if "/Info" in pdf.trailer or "/OpenAction" in pdf.Root:
                raise CannotClean(_("The PDF could not be cleaned."))
            names = pdf.Root.get("/Names")
            if isinstance(names, pikepdf.Dictionary) and any(k in names for k in _DROP_FROM_NAMES):
                raise CannotClean(_("The PDF could not be cleaned."))
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Stream | pikepdf.Dictionary):
                    if any(k in obj for k in _DROP_EVERYWHERE) or str(obj.get("/Type", "")) in (
                            "/EmbeddedFile", "/Filespec", "/ObjStm"):
                        raise CannotClean(_("The PDF could not be cleaned."))
                    if str(obj.get("/Type", "")) == "/Annot" and "/T" in obj:
                        raise CannotClean(_("The PDF could not be cleaned."))
    except pikepdf.PdfError as exc:
        raise CannotClean(_("The PDF could not be cleaned.")) from exc


def _pdf_strings(data: bytes, limit: int = 2_000_000) -> list[str]:
    """Every string and name held in the document's objects (not in content streams):
    bookmarks, layer names, alternate texts, form values, link targets, annotation texts..."""
    out: list[str] = []
    size = 0
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            stack = list(pdf.objects)
            seen: set[tuple[int, int]] = set()
            while stack and size < limit:
                obj = stack.pop()
                if isinstance(obj, pikepdf.String | pikepdf.Name):
                    text = str(obj).lstrip("/")
                    out.append(text)
                    size += len(text)
                elif isinstance(obj, pikepdf.Stream | pikepdf.Dictionary):
                    if obj.is_indirect:
                        if obj.objgen in seen:
                            continue
                        seen.add(obj.objgen)
                    stack.extend(obj.get(k) for k in list(obj.keys()))
                elif isinstance(obj, pikepdf.Array):
                    stack.extend(list(obj))
    except Exception:
        log.debug("no strings from a PDF", exc_info=True)
    return out


def pdf_text(data: bytes, max_pages: int = 200) -> str:
    """The text of a PDF's pages (pypdf) and every string of its objects (pikepdf), best effort."""
    from pypdf import PdfReader

    parts: list[str] = []
    try:
        reader = PdfReader(io.BytesIO(data))
        for page in reader.pages[:max_pages]:
            try:
                parts.append(page.extract_text() or "")
            except Exception:
                log.debug("no text from a PDF page", exc_info=True)
    except Exception:
        log.debug("no text from a PDF", exc_info=True)
    parts.extend(_pdf_strings(data))
    return "\n".join(parts)


def clean(data: bytes, content_type: str) -> bytes:
    """Rebuild `data` of an allowed type; CannotClean if that is not possible."""
    if content_type == "application/pdf":
        return clean_pdf(data)
    if content_type in ("image/jpeg", "image/png"):
        return clean_image(data, content_type)
    raise CannotClean(_("Files of this type cannot be cleaned and are not accepted."))
