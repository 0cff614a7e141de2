"""Drives berth with the unchanged `harborapi` client (PyPI), the way a Harbor user's script would.

Run by crates/berth/tests/harbor_api.rs:

    python3 harborapi_flow.py setup   URL  '{"project": ..., "user": ..., "robot": ...}'
    python3 harborapi_flow.py inspect URL  '{"project": ..., "repository": ..., "tag": ..., "digest": ...}'

The admin's credentials come from BERTH_ADMIN_USER / BERTH_ADMIN_PASSWORD and the new user's
password from BERTH_USER_PASSWORD (never on the command line). Each step is a plain client
call with the client's own models and validation (validate=True, the default); the results
are printed as one JSON object on stdout. A failing step prints which step it was and the
client's exception (for a pydantic ValidationError that names the field) on stderr, and the
script exits 1.
"""

import asyncio
import json
import os
import sys
import traceback

from harborapi import HarborAsyncClient
from harborapi.exceptions import NotFound, StatusError
from harborapi.models import (
    Access,
    ProjectMetadata,
    ProjectReq,
    RobotCreate,
    RobotPermission,
    UserCreationReq,
)


def dump(value):
    """A client result as JSON: models, lists of models, or plain values."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_none=False)
    if isinstance(value, list):
        return [dump(v) for v in value]
    return value


class Steps:
    def __init__(self):
        self.out = {}

    async def __call__(self, name, awaitable):
        try:
            value = await awaitable
        except Exception as e:  # report which client call failed, and how
            detail = ""
            if isinstance(e, StatusError) and getattr(e, "errors", None) is not None:
                detail = f"\nserver errors: {e.errors}"
            sys.stderr.write(
                f"harborapi step {name!r} failed: {type(e).__name__}: {e}{detail}\n"
                + traceback.format_exc()
            )
            sys.stderr.write(f"results so far: {json.dumps(self.out, default=str)}\n")
            sys.exit(1)
        self.out[name] = dump(value)
        return value

    async def expect_not_found(self, name, awaitable):
        """A call that must fail with the client's NotFound (HTTP 404)."""
        try:
            value = await awaitable
        except NotFound as e:
            self.out[name] = {"not_found": True, "errors": str(getattr(e, "errors", ""))}
            return
        except Exception as e:
            sys.stderr.write(
                f"harborapi step {name!r}: expected NotFound, got {type(e).__name__}: {e}\n"
                + traceback.format_exc()
            )
            sys.exit(1)
        self.out[name] = {"not_found": False, "value": dump(value)}


async def setup(url, args):
    admin = HarborAsyncClient(
        url=url,
        username=os.environ["BERTH_ADMIN_USER"],
        secret=os.environ["BERTH_ADMIN_PASSWORD"],
        timeout=60.0,
    )
    project, user, robot = args["project"], args["user"], args["robot"]
    user_password = os.environ["BERTH_USER_PASSWORD"]
    step = Steps()

    await step("health", admin.health_check())
    await step("project_exists_before", admin.project_exists(project))
    await step(
        "create_project",
        admin.create_project(
            ProjectReq(project_name=project, metadata=ProjectMetadata(public=False))
        ),
    )
    await step("project_exists_after", admin.project_exists(project))
    p = await step("get_project", admin.get_project(project))
    await step("get_project_by_id", admin.get_project(p.project_id))
    await step("get_projects", admin.get_projects(name=project))
    # One item a page: the client follows the Link headers and joins the pages.
    await step("get_projects_paged", admin.get_projects(page_size=1))

    await step(
        "create_user",
        admin.create_user(
            UserCreationReq(
                username=user,
                email=f"{user}@example.com",
                realname="Integration Test",
                comment="created by harborapi",
                password=user_password,
            )
        ),
    )
    u = await step("get_user_by_username", admin.get_user_by_username(user))
    await step("get_user", admin.get_user(u.user_id))
    await step("get_users_paged", admin.get_users(page_size=1))
    await step("add_member", admin.add_project_member_user(project, user, 2))
    await step("get_members", admin.get_project_members(project))

    as_user = HarborAsyncClient(url=url, username=user, secret=user_password, timeout=60.0)
    await step("user_current", as_user.get_current_user())
    await step("user_sees_project", as_user.get_project(project))

    created = await step(
        "create_robot",
        admin.create_robot(
            RobotCreate(
                name=robot,
                description="pushes from CI",
                level="project",
                duration=-1,
                disable=False,
                permissions=[
                    RobotPermission(
                        kind="project",
                        namespace=project,
                        access=[
                            Access(resource="repository", action="push"),
                            Access(resource="repository", action="pull"),
                        ],
                    )
                ],
            )
        ),
    )
    await step("get_robot", admin.get_robot(created.id))
    await step(
        "get_project_robots",
        admin.get_robots(query=f"Level=project,ProjectID={p.project_id}"),
    )
    # Scanner registrations parse as harborapi's models: the built-in scanner is listed,
    # the default, and the project's scanner.
    await step("get_scanners", admin.get_scanners())
    await step("get_project_scanner", admin.get_project_scanner(project))
    return step.out


async def inspect(url, args):
    admin = HarborAsyncClient(
        url=url,
        username=os.environ["BERTH_ADMIN_USER"],
        secret=os.environ["BERTH_ADMIN_PASSWORD"],
        timeout=60.0,
    )
    project, repo, tag, digest = args["project"], args["repository"], args["tag"], args["digest"]
    step = Steps()

    await step("get_repositories", admin.get_repositories(project))
    await step("get_all_repositories", admin.get_repositories())
    await step("get_repository", admin.get_repository(project, repo))
    await step("get_artifacts", admin.get_artifacts(project, repo))
    await step("get_artifact_by_tag", admin.get_artifact(project, repo, tag))
    await step("get_artifact_by_digest", admin.get_artifact(project, repo, digest))
    await step("get_artifact_tags", admin.get_artifact_tags(project, repo, digest))

    await step("delete_artifact", admin.delete_artifact(project, repo, digest))
    await step("get_artifacts_after_delete", admin.get_artifacts(project, repo))
    await step.expect_not_found(
        "get_artifact_after_delete", admin.get_artifact(project, repo, digest)
    )
    # Harbor keeps a repository whose last artifact is deleted (artifact_count 0) until the
    # repository itself is deleted.
    await step("get_repository_after_artifact_delete", admin.get_repository(project, repo))
    await step("delete_repository", admin.delete_repository(project, repo))
    await step("get_repositories_after_delete", admin.get_repositories(project))
    await step.expect_not_found(
        "get_repository_after_delete", admin.get_repository(project, repo)
    )
    return step.out


def main():
    mode, url, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    run = {"setup": setup, "inspect": inspect}[mode]
    out = asyncio.run(run(url, args))
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
