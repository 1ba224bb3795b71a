"""`humanllm view`: the local web viewer of stores, episodes, judgements, studies and the pattern graph."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from humanllm.cli._options import PatternsDirOption
from humanllm.cli._output import console, err_console


def view(
    folders: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Store, split, study or benchmark folders to view (default: the current folder).", show_default=False
        ),
    ] = None,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free one).")] = 8765,
    host: Annotated[
        str, typer.Option(help="Address to listen on; anything but loopback shows your data to others.")
    ] = "127.0.0.1",
    index_dir: Annotated[
        Path | None,
        typer.Option(
            help="Where the indexes go (default $XDG_CACHE_HOME/humanllm/viewer, ~/.cache/...).", file_okay=False
        ),
    ] = None,
    ratings: Annotated[
        Path, typer.Option(help="Annotation mode's ratings file (JSONL, read by `eval alignment --human`).")
    ] = Path("ratings.jsonl"),
    no_open: Annotated[bool, typer.Option("--no-open", help="Do not open a browser tab.")] = False,
    patterns_dir: PatternsDirOption = None,
) -> None:
    """Browse stores in a local web page: episodes with each character's perspective, the judge's evidence, studies.

    Each folder is indexed into SQLite outside it (the folder is never written); later only what its shards gained.
    Ctrl-C stops the server.
    """
    from humanllm.cli._options import graph
    from humanllm.viewer import bind, build_app, is_loopback, open_indexes, serve, url_of

    g = graph(patterns_dir)
    sock = bind(host, port)  # before indexing: a port in use fails at once
    try:
        served = open_indexes(folders or [Path(".")], g.library, index_dir=index_dir, progress=_Bar())
        app = build_app(
            [s.folder for s in served],
            library=g.library,
            ratings=ratings,
            hosts=[host],
            served=served,
            relation_dirs=patterns_dir or [],
        )
    except BaseException:
        sock.close()
        raise
    url = url_of(sock, host)
    if not is_loopback(host):
        err_console.print(
            f"[bold yellow]warning:[/] listening on {host}: anyone who can reach this machine can read these folders"
        )
    for s in served:
        console.print(f"{s.folder}: index {s.index.path}", soft_wrap=True, highlight=False)
    console.print(f"ratings: {app.state.viewer.ratings}\nviewer: {url}  (Ctrl-C stops it)", soft_wrap=True)

    def opened() -> None:
        if not no_open:
            import webbrowser

            webbrowser.open(url)

    serve(app, sock, on_ready=opened)


class _Bar:
    """A progress callback drawing one rich bar of bytes indexed (none when there is little to read)."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if total < (1 << 20) or done >= total:
                return
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

            self.bar = Progress(
                TextColumn("indexing"), BarColumn(), DownloadColumn(), console=err_console, transient=True
            )
            self.bar.start()
            self.task = self.bar.add_task("index", total=total)
        self.bar.update(self.task, completed=done, total=total)
        if done >= total:
            self.bar.stop()
            self.bar = None
