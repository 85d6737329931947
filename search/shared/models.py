"""Tables of the shared store, on the authoring database's Base (one migration history):
published library versions as files (the index directory and the built site, byte for
byte), and the search log and feedback of every replica."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from search.authoring.models import Base, UTCDateTime, now


class LibraryVersion(Base):
    __tablename__ = "library_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    writer: Mapped[str] = mapped_column(String(200))  # host and pid of the publishing process
    manifest: Mapped[str] = mapped_column(Text)  # the index's manifest.json
    files: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer)


class LibraryFile(Base):
    __tablename__ = "library_files"

    version_id: Mapped[int] = mapped_column(ForeignKey("library_versions.id", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str] = mapped_column(String(400), primary_key=True)  # index/… or site/…
    data: Mapped[bytes] = mapped_column(LargeBinary)


class SharedSearch(Base):
    __tablename__ = "search_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[float] = mapped_column(Float, index=True)
    query: Mapped[str] = mapped_column(Text)
    top_slug: Mapped[str | None] = mapped_column(String(80), nullable=True)
    top_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    results: Mapped[int] = mapped_column(Integer)
    weak: Mapped[bool] = mapped_column(Boolean)
    category: Mapped[str | None] = mapped_column(String(40), nullable=True)
    level: Mapped[str | None] = mapped_column(String(40), nullable=True)
    replica: Mapped[str] = mapped_column(String(200), default="")


class SharedFeedback(Base):
    __tablename__ = "search_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[float] = mapped_column(Float, index=True)
    query: Mapped[str] = mapped_column(Text)
    slug: Mapped[str] = mapped_column(String(80))
    useful: Mapped[bool] = mapped_column(Boolean)
