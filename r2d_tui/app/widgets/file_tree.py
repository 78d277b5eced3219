"""The environment files of the repository, as repo2docker sees them.

The tree answers "which of my files count?" at a glance: files are grouped by the folder
repo2docker looks in (the root, ``binder/``, ``.binder/``); the file that made repo2docker
pick its buildpack carries ★, files repo2docker will not read are dimmed with ⊘ (the reason
is the node's tooltip and is shown in :class:`FileInfo` under the tree), and files with
unsaved edits carry ●. A first node opens the generated Dockerfile.

The widget only displays state bound from the screen (``files``, ``detection``, ``dirty``,
``current``) and reports choices upwards with its nested messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import ClassVar, Literal

from rich.text import Text
from textual import on
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from r2d_tui.core.detection import Detection
from r2d_tui.core.envfiles import BINDER_DIRS, KIND_BY_NAME

IGNORED_MARK = "⊘"
DECIDING_MARK = "★"
DIRTY_MARK = "●"
PREVIEW_LABEL = "⚙ Dockerfile (generated)"


@dataclass(frozen=True)
class TreeEntry:
    """What a tree node stands for."""

    kind: Literal["folder", "file", "preview"]
    path: str
    """Repository-relative path (``""`` for the root folder and the preview node)."""


def folder_of(path: str) -> str:
    parent = str(PurePosixPath(path).parent)
    return "" if parent == "." else parent


def file_status(path: str, detection: Detection | None) -> tuple[str, str | None]:
    """``(state, detail)`` for a file: state is ``deciding``, ``ignored``, ``used``, ``unknown``."""
    if detection is None:
        return "unknown", None
    reason = detection.reason_ignored(path)
    if reason is not None:
        return "ignored", reason
    if path in detection.deciding_files:
        return "deciding", f"decides the buildpack: {detection.buildpack}"
    if path in detection.used_files:
        return "used", None
    return "unknown", None


class EnvFileTree(Tree[TreeEntry]):
    """Environment files grouped by folder, with repo2docker's verdict on each.

    | Key | Description |
    | :- | :- |
    | enter | Open the file (or the generated Dockerfile). |
    | up/down | Move; the line under the tree explains the file. |
    """

    HELP: ClassVar[str] = (
        "## Files\n\n"
        "The environment files repo2docker looks for, grouped by folder.\n\n"
        f"* `{DECIDING_MARK}` decides the buildpack\n"
        f"* `{IGNORED_MARK}` (dimmed) is present but repo2docker will not read it; "
        "the line under the tree says why\n"
        f"* `{DIRTY_MARK}` has unsaved edits\n\n"
        "**Enter** opens a file in the editor; the first node shows the generated Dockerfile. "
        "To start a new file use the command palette (`ctrl+p`, then `new:`)."
    )

    files: reactive[tuple[str, ...]] = reactive((), init=False)
    """Repository-relative paths of the environment files."""
    detection: reactive[Detection | None] = reactive(None, init=False)
    """repo2docker's verdict, for the ★ and ⊘ markers."""
    dirty: reactive[frozenset[str]] = reactive(frozenset(), init=False)
    """Files with unsaved edits."""
    current: reactive[str | None] = reactive(None, init=False)
    """The file open in the editor (shown bold)."""
    root_name: reactive[str] = reactive("./", init=False)
    """Label of the repository root folder."""

    @dataclass
    class FileSelected(Message):
        """The user chose a file to edit."""

        tree: EnvFileTree
        path: str

        @property
        def control(self) -> EnvFileTree:
            return self.tree

    @dataclass
    class PreviewSelected(Message):
        """The user chose the generated Dockerfile."""

        tree: EnvFileTree

        @property
        def control(self) -> EnvFileTree:
            return self.tree

    @dataclass
    class FileHighlighted(Message):
        """The cursor moved to a file (``None``: to something else)."""

        tree: EnvFileTree
        path: str | None

        @property
        def control(self) -> EnvFileTree:
            return self.tree

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("repository", TreeEntry("folder", ""), id=id, classes=classes)
        self.show_root = False
        self.guide_depth = 3
        self._file_nodes: dict[str, TreeNode[TreeEntry]] = {}
        self._folder_nodes: dict[str, TreeNode[TreeEntry]] = {}

    def on_mount(self) -> None:
        self._rebuild()

    # -- state → nodes ---------------------------------------------------------------------
    def watch_files(self) -> None:
        self._rebuild()

    def watch_detection(self) -> None:
        self._relabel()

    def watch_dirty(self) -> None:
        self._relabel()

    def watch_current(self) -> None:
        self._relabel()

    def watch_root_name(self) -> None:
        self._relabel()

    def _rebuild(self) -> None:
        """Recreate the nodes for ``files``, keeping the cursor on the same entry."""
        keep = self.cursor_node.data if self.cursor_node is not None else None
        self.clear()
        self._file_nodes.clear()
        self._folder_nodes.clear()
        self.root.add_leaf(PREVIEW_LABEL, TreeEntry("preview", ""))
        folders = ["", *BINDER_DIRS]
        config_dir = self.detection.config_dir if self.detection else None
        for folder in folders:
            members = [path for path in self.files if folder_of(path) == folder]
            if not members and folder != config_dir and folder:
                continue
            node = self.root.add("", TreeEntry("folder", folder), expand=True)
            self._folder_nodes[folder] = node
            for path in members:
                self._file_nodes[path] = node.add_leaf("", TreeEntry("file", path))
        self._relabel()
        if keep is not None:
            self._move_to(keep)

    def _move_to(self, entry: TreeEntry) -> None:
        target: TreeNode[TreeEntry] | None = None
        if entry.kind == "file":
            target = self._file_nodes.get(entry.path)
        elif entry.kind == "folder":
            target = self._folder_nodes.get(entry.path)
        if target is None and entry.kind == "preview":
            target = self.root.children[0] if self.root.children else None
        if target is not None:
            self.move_cursor(target)

    def _relabel(self) -> None:
        for folder, node in self._folder_nodes.items():
            node.set_label(self._folder_label(folder))
        for path, node in self._file_nodes.items():
            node.set_label(self.file_label(path))

    def _folder_label(self, folder: str) -> Text:
        name = f"{folder}/" if folder else self.root_name
        label = Text(name, style="bold")
        detection = self.detection
        if detection is not None and folder and detection.config_dir == folder:
            label.append("  (config)", style="italic dim")
        return label

    def file_label(self, path: str) -> Text:
        """The label of a file node: marker, name, dirty dot."""
        state, _detail = file_status(path, self.detection)
        name = PurePosixPath(path).name
        marker = {"deciding": DECIDING_MARK, "ignored": IGNORED_MARK}.get(state, " ")
        style = "dim strike" if state == "ignored" else ""
        if path == self.current:
            style += " bold underline"
        label = Text()
        label.append(f"{marker} ", style="bold yellow" if state == "deciding" else "dim")
        label.append(name, style=style.strip())
        if path in self.dirty:
            label.append(f" {DIRTY_MARK}", style="bold yellow")
        return label

    # -- tooltips --------------------------------------------------------------------------
    def tooltip_for(self, entry: TreeEntry | None) -> str | None:
        """The tooltip for a node: repo2docker's verdict and what the file is for."""
        if entry is None:
            return None
        if entry.kind == "preview":
            return "The Dockerfile repo2docker generates from these files (unsaved edits included)"
        if entry.kind == "folder":
            if self.detection is not None and self.detection.config_dir == entry.path:
                return "repo2docker reads its configuration from this folder"
            return None
        state, detail = file_status(entry.path, self.detection)
        kind = KIND_BY_NAME.get(PurePosixPath(entry.path).name)
        description = kind.description if kind else ""
        if state == "ignored":
            return f"{IGNORED_MARK} ignored: {detail}"
        if detail:
            return f"{DECIDING_MARK} {detail}. {description}"
        return description or None

    def watch_hover_line(self, previous_hover_line: int, hover_line: int) -> None:
        super().watch_hover_line(previous_hover_line, hover_line)
        node = self.get_node_at_line(hover_line) if hover_line >= 0 else None
        self.tooltip = self.tooltip_for(node.data if node is not None else None)

    # -- events → messages ------------------------------------------------------------------
    @on(Tree.NodeSelected)
    def _node_selected(self, event: Tree.NodeSelected[TreeEntry]) -> None:
        event.stop()
        entry = event.node.data
        if entry is None:
            return
        if entry.kind == "file":
            self.post_message(self.FileSelected(self, entry.path))
        elif entry.kind == "preview":
            self.post_message(self.PreviewSelected(self))

    @on(Tree.NodeHighlighted)
    def _node_highlighted(self, event: Tree.NodeHighlighted[TreeEntry]) -> None:
        event.stop()
        entry = event.node.data
        path = entry.path if entry is not None and entry.kind == "file" else None
        self.post_message(self.FileHighlighted(self, path))

    def select_path(self, path: str) -> None:
        """Move the cursor to ``path`` (without opening it)."""
        node = self._file_nodes.get(path)
        if node is not None:
            self.move_cursor(node)


class FileInfo(Static):
    """One or two lines under the tree: what the highlighted file is and whether it counts."""

    path: reactive[str | None] = reactive(None)
    """The highlighted file."""
    detection: reactive[Detection | None] = reactive(None)

    def render_info(self) -> Text:
        path = self.path
        if path is None:
            detection = self.detection
            if detection is None:
                return Text("Detecting…", style="dim")
            if detection.error:
                return Text(f"✗ {detection.error}", style="red")
            where = f"{detection.config_dir}/" if detection.config_dir else "the root"
            text = Text(f"buildpack {detection.buildpack}", style="bold")
            text.append(f" · config in {where}", style="dim")
            if detection.ignored:
                text.append(f" · {len(detection.ignored)} ignored", style="dim")
            return text
        state, detail = file_status(path, self.detection)
        kind = KIND_BY_NAME.get(PurePosixPath(path).name)
        text = Text()
        if state == "ignored":
            text.append(f"{IGNORED_MARK} ignored: ", style="bold yellow")
            text.append(detail or "")
            return text
        if state == "deciding":
            text.append(f"{DECIDING_MARK} {detail}. ", style="bold")
        elif state == "used":
            text.append("✓ used. ", style="green")
        text.append(kind.description if kind else path, style="dim")
        return text

    def watch_path(self) -> None:
        self.update(self.render_info())

    def watch_detection(self) -> None:
        self.update(self.render_info())
