"""Reading a corpus (txt, md, pdf) and splitting it into chunks that fit the model's context."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from humanllm.agents.pattern_builder._text import normalise_space
from humanllm.errors import ConfigError, DataError

logger = logging.getLogger(__name__)

SUFFIXES: dict[str, Literal["text", "markdown", "pdf"]] = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".pdf": "pdf",
}


class Document(BaseModel):
    """One readable file of the corpus, as plain text."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="Path relative to the corpus folder: how provenance cites it.")
    kind: Literal["text", "markdown", "pdf"]
    sha256: str = Field(description="Hash of the extracted text (what the cache keys on).")
    text: str = Field(repr=False)
    pages: int | None = Field(default=None, description="PDF pages read.")

    @property
    def chars(self) -> int:
        return len(self.text)


class Chunk(BaseModel):
    """A piece of one document small enough for one model call."""

    model_config = ConfigDict(frozen=True)

    document: str = Field(description="The document's name.")
    index: int = Field(ge=0, description="Position of the chunk in its document.")
    text: str = Field(repr=False)


class Corpus(BaseModel):
    """The documents read from a folder, and the files that were skipped."""

    documents: list[Document]
    skipped: dict[str, str] = Field(default_factory=dict, description="File -> why it was not read.")

    @property
    def chars(self) -> int:
        return sum(d.chars for d in self.documents)


@contextlib.contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf logs a warning per oddity in a broken file; the error we raise already says it."""
    pdf_logger = logging.getLogger("pypdf")
    level = pdf_logger.level
    pdf_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        pdf_logger.setLevel(level)


def _read_pdf(path: Path) -> tuple[str, int]:
    from pypdf import PdfReader

    try:
        with _quiet_pypdf():
            reader = PdfReader(path, strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise DataError(f"cannot read {path}: the PDF is password-protected; decrypt it or remove it")
            pages = [page.extract_text() or "" for page in reader.pages]
    except DataError:
        raise
    except Exception as exc:  # pypdf documents that broken files may raise any exception
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(
            f"cannot read {path}: not a readable PDF ({reason}); repair or convert it to text, or remove it"
        ) from exc
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise DataError(
            f"cannot read {path}: the PDF has no extractable text (a scanned document?); OCR it or remove it"
        )
    return text, len(pages)


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"cannot read {path}: not UTF-8 text (byte {exc.start}); re-save it as UTF-8") from exc


def read_document(path: Path, name: str) -> Document:
    """One file as a Document; unreadable files raise DataError naming the file and the fix."""
    kind = SUFFIXES[path.suffix.lower()]
    pages: int | None = None
    try:
        if kind == "pdf":
            text, pages = _read_pdf(path)
        else:
            text = _read_text(path)
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}; check the file's permissions") from exc
    text = text.replace("\r\n", "\n").strip()
    return Document(
        name=name, kind=kind, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), text=text, pages=pages
    )


def read_corpus(directory: Path, *, max_chars: int) -> Corpus:
    """Every .txt, .md and .pdf file under `directory` (sorted); fails clearly on an unusable corpus."""
    if not directory.is_dir():
        raise ConfigError(f"corpus folder {directory} does not exist; pass --corpus DIR or use --from-knowledge")
    documents: list[Document] = []
    skipped: dict[str, str] = {}
    total = 0
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        name = path.relative_to(directory).as_posix()
        if any(part.startswith(".") for part in path.relative_to(directory).parts):
            continue
        if path.suffix.lower() not in SUFFIXES:
            skipped[name] = f"not a supported file type ({', '.join(sorted(SUFFIXES))})"
            logger.info("skipping %s: unsupported type", name)
            continue
        document = read_document(path, name)
        if not document.text:
            skipped[name] = "empty"
            logger.warning("skipping %s: it is empty", name)
            continue
        total += document.chars
        if total > max_chars:
            raise ConfigError(
                f"corpus {directory} has more than {max_chars:,} characters of text (reached at {name}); "
                "pass a larger --max-chars or fewer documents"
            )
        documents.append(document)
    if not documents:
        raise ConfigError(
            f"corpus {directory} has no readable .txt, .md or .pdf documents; add some, or use --from-knowledge"
        )
    return Corpus(documents=documents, skipped=skipped)


def _pieces(text: str, limit: int) -> Iterator[str]:
    """Paragraphs, with over-long ones cut at sentence ends, then hard-cut."""
    for paragraph in (p.strip() for p in text.split("\n\n")):
        paragraph = normalise_space(paragraph)
        while len(paragraph) > limit:
            cut = max(paragraph.rfind(". ", 0, limit), paragraph.rfind("? ", 0, limit))
            cut = cut + 1 if cut > limit // 3 else limit
            yield paragraph[:cut].strip()
            paragraph = paragraph[cut:].strip()
        if paragraph:
            yield paragraph


def chunk_document(document: Document, chunk_chars: int) -> list[Chunk]:
    """Consecutive paragraphs packed into chunks of at most `chunk_chars` characters."""
    chunks: list[Chunk] = []
    current: list[str] = []
    size = 0
    for piece in _pieces(document.text, chunk_chars):
        if current and size + len(piece) + 2 > chunk_chars:
            chunks.append(Chunk(document=document.name, index=len(chunks), text="\n\n".join(current)))
            current, size = [], 0
        current.append(piece)
        size += len(piece) + 2
    if current:
        chunks.append(Chunk(document=document.name, index=len(chunks), text="\n\n".join(current)))
    return chunks


def chunk_corpus(corpus: Corpus, chunk_chars: int) -> list[Chunk]:
    return [chunk for document in corpus.documents for chunk in chunk_document(document, chunk_chars)]
