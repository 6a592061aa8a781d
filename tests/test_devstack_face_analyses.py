"""The local face engine's analyses kept per checkout (devstack/rekognition/analyses.py): a process that loads
what another analysed answers exactly as one that analysed itself, without loading dlib's models; anything
that decides an analysis makes another; a torn file is analysed again; two at once analyse once."""
from __future__ import annotations

import shutil
import threading

import pytest

from devstack.rekognition import analyses
from devstack.rekognition.analyses import Analyses, code_version, image_key
from devstack.rekognition.engine import Engine, decode, install_analyses, model_paths
from tests.support.faces import photo

pytestmark = pytest.mark.no_stack

GROUP = "group-obama-biden.jpg"  # three faces: boxes, landmarks and descriptors of each must come back


@pytest.fixture(scope="module")
def engine() -> Engine:
    """One engine with the models loaded, the cache off: the reference answers."""
    reference = Engine()
    reference.analyses = None
    reference.load()
    return reference


@pytest.fixture
def counted(engine, monkeypatch):
    """Engines (each as another process would make it) whose analyses are counted and done by ``engine``."""
    runs: list[int] = []

    def make(kept: Analyses) -> Engine:
        other = Engine()
        other.analyses = kept

        def analyse(image, max_faces):
            runs.append(max_faces)
            return engine._analyse(image, max_faces)

        monkeypatch.setattr(other, "_analyse", analyse)
        return other

    return make, runs


def details(faces) -> list[dict]:
    return [face.detail("ALL") for face in faces]


def test_a_second_process_loads_the_analysis_answers_the_same_and_loads_no_model(tmp_path, engine, counted):
    make, runs = counted
    image = decode(photo(GROUP))
    reference = engine.faces(image)
    assert len(reference) == 3
    first = make(Analyses(tmp_path))
    assert details(first.faces(image)) == details(reference) and runs == [100]
    assert len(list(tmp_path.glob("*.pickle"))) == 1
    second = Engine()  # another process: nothing in memory, no model loaded
    second.analyses = Analyses(tmp_path)
    again = second.faces(image)
    assert second._models is None, "the models were loaded for an image analysed before"
    assert details(again) == details(reference)
    for kept, fresh in zip(again, reference, strict=True):
        assert (kept.descriptor == fresh.descriptor).all() and (kept.points == fresh.points).all()
        assert (kept.gray == fresh.gray).all()
    assert len(second.faces(image, max_faces=1)) == 1  # not kept: analysed, by models loaded now
    assert second._models is not None


def test_other_pixels_other_max_faces_or_other_code_analyse_again(tmp_path, engine, counted, monkeypatch):
    make, runs = counted
    image = decode(photo("obama-1.jpg"))
    make(Analyses(tmp_path)).faces(image)
    make(Analyses(tmp_path)).faces(image, max_faces=1)
    other = image.copy()
    other[0, 0] ^= 1  # one pixel
    assert image_key(other, 100) != image_key(image, 100)
    make(Analyses(tmp_path)).faces(other)
    assert runs == [100, 1, 100]
    make(Analyses(tmp_path)).faces(image)
    assert runs == [100, 1, 100], "the same pixels were analysed again"

    source = tmp_path / "engine.py"
    shutil.copy(analyses.ENGINE_SOURCE, source)
    models = model_paths()
    before = code_version(models)
    monkeypatch.setattr(analyses, "ENGINE_SOURCE", source)
    assert code_version(models) == before
    source.write_text(source.read_text() + "\n# changed\n")
    assert code_version(models) != before, "the engine's code changed and its analyses would be reused"
    monkeypatch.setattr(analyses, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(Engine, "analyses", None)
    assert install_analyses()
    assert Engine.analyses is not None and Engine.analyses.folder.name == code_version(models)


def test_an_unreadable_file_is_analysed_again_and_rewritten(tmp_path, engine, counted):
    make, runs = counted
    image = decode(photo("biden-1.jpg"))
    make(Analyses(tmp_path)).faces(image)
    (kept,) = tmp_path.glob("*.pickle")
    kept.write_bytes(kept.read_bytes()[:100])  # torn
    assert details(make(Analyses(tmp_path)).faces(image)) == details(engine.faces(image))
    assert len(runs) == 2
    make(Analyses(tmp_path)).faces(image)
    assert len(runs) == 2, "the torn file was not rewritten"


def test_two_asking_at_once_analyse_once(tmp_path, counted):
    make, runs = counted
    image = decode(photo("leslie-1.jpg"))
    engines = [make(Analyses(tmp_path)) for _ in range(2)]
    barrier, answers = threading.Barrier(2), []

    def ask(engine):
        barrier.wait()
        answers.append(details(engine.faces(image)))

    threads = [threading.Thread(target=ask, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(runs) == 1 and len(answers) == 2 and answers[0] == answers[1]


def test_off_installs_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(analyses, "CACHE_DIR", tmp_path)
    monkeypatch.setattr(Engine, "analyses", None)
    monkeypatch.setenv("DEVSTACK_FACE_CACHE", "off")
    assert install_analyses() is False and Engine.analyses is None
    assert list(tmp_path.iterdir()) == []
