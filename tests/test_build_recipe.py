"""The lean package's cache recipe (scripts/build_package.py): the package's import trace follows what the app's
code imports, so a change to app.py or chalicelib/ must rebuild it, as a change to the script or the lock does."""

from __future__ import annotations

import pytest

from scripts.build_package import LOCK, build_recipe


@pytest.fixture
def project(tmp_path):
    (tmp_path / LOCK).write_text("pynamodb==6.0.1\n")
    (tmp_path / "app.py").write_text("from chalicelib import bootstrap\n")
    (tmp_path / "chalicelib" / "adapters").mkdir(parents=True)
    (tmp_path / "chalicelib" / "__init__.py").write_text("")
    (tmp_path / "chalicelib" / "adapters" / "store.py").write_text("import pynamodb\n")
    return tmp_path


@pytest.mark.no_stack
@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda p: (p / "chalicelib" / "adapters" / "store.py").write_text("import requests\n"), id="edit"),
        pytest.param(lambda p: (p / "chalicelib" / "adapters" / "more.py").write_text("import dns\n"), id="new-module"),
        pytest.param(lambda p: (p / "chalicelib" / "adapters" / "store.py").rename(p / "chalicelib" / "store.py"),
                     id="moved"),
        pytest.param(lambda p: (p / "app.py").write_text("import chalicelib\n"), id="app"),
        pytest.param(lambda p: (p / LOCK).write_text("pynamodb==6.0.2\n"), id="lock"),
    ],
)
def test_a_change_to_the_apps_code_or_the_lock_changes_the_recipe(project, change):
    before = build_recipe(project)
    assert build_recipe(project) == before  # the same files, the same recipe
    change(project)
    assert build_recipe(project) != before


@pytest.mark.no_stack
def test_bytecode_and_other_projects_leave_the_recipe_alone(project):
    before = build_recipe(project)
    cache = project / "chalicelib" / "__pycache__"
    cache.mkdir()
    (cache / "store.cpython-311.pyc").write_bytes(b"\x00compiled")
    (project / "tests").mkdir()
    (project / "tests" / "test_x.py").write_text("def test(): pass\n")
    assert build_recipe(project) == before


@pytest.mark.no_stack
def test_a_copy_of_the_worktree_elsewhere_has_the_worktrees_recipe(tmp_path):
    """The deploy rehearsal deploys from copies of the project: they must find the worktree's build, not build
    the package again from the lock (issue 22: the script's own path, labelled one way inside the worktree and
    another outside, once made every copy's recipe differ)."""
    import shutil

    from scripts.build_package import APP_CODE, ROOT

    for name in (*APP_CODE, LOCK):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, tmp_path / name)
    assert build_recipe(tmp_path) == build_recipe(ROOT)
