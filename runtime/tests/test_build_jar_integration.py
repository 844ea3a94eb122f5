"""`build_jar`: a Maven project inside a package, built once into the cache and again when it changes."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from accord.runtime.errors import JarResolutionError
from accord.runtime.jars import build_jar

# Maven downloads its compiler and jar plugins on a fresh machine
pytestmark = pytest.mark.integration

POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.accord.test</groupId>
  <artifactId>greeting</artifactId>
  <version>0</version>
  <properties><maven.compiler.release>17</maven.compiler.release></properties>
  <build><plugins>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-compiler-plugin</artifactId>
      <version>3.13.0</version></plugin>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-resources-plugin</artifactId>
      <version>3.3.1</version></plugin>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-jar-plugin</artifactId>
      <version>3.4.2</version></plugin>
    <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-surefire-plugin</artifactId>
      <version>3.5.2</version></plugin>
  </plugins></build>
</project>
"""


def project(root: Path, body: str) -> Path:
    source = root / "src" / "main" / "java" / "dev" / "accord" / "test"
    source.mkdir(parents=True)
    (root / "pom.xml").write_text(POM)
    (source / "Greeting.java").write_text(f"package dev.accord.test; public class Greeting {{ {body} }}")
    return root


def classes(jar: Path) -> list[str]:
    with zipfile.ZipFile(jar) as archive:
        return sorted(name for name in archive.namelist() if name.endswith(".class"))


def test_the_jar_is_built_once_and_again_when_a_source_changes(tmp_path: Path) -> None:
    sources = project(tmp_path / "greeting", 'public static String hello() { return "hi"; }')
    cache = tmp_path / "cache"
    jar = build_jar(sources, cache)
    assert classes(jar) == ["dev/accord/test/Greeting.class"]
    assert not (sources / "target").exists()  # the sources' folder is left as it was

    built_at = jar.stat().st_mtime_ns
    assert build_jar(sources, cache) == jar
    assert jar.stat().st_mtime_ns == built_at  # same sources: no second build

    source = next(sources.rglob("Greeting.java"))
    source.write_text(source.read_text().replace("public class Greeting {", "public class Greeting { int n;"))
    rebuilt = build_jar(sources, cache)
    assert rebuilt.stat().st_mtime_ns != built_at


def test_a_project_that_does_not_compile_is_a_jar_resolution_error(tmp_path: Path) -> None:
    sources = project(tmp_path / "broken", 'public static int broken() { return "not a number"; }')
    with pytest.raises(JarResolutionError, match="could not build broken") as failure:
        build_jar(sources, tmp_path / "cache")
    assert "incompatible types" in str(failure.value)
