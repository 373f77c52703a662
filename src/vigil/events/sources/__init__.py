"""Receivers' translators: webhook payloads of CI systems as events in the envelope.

:mod:`~vigil.events.sources.github` (GitHub Actions ``workflow_run`` / ``workflow_job``, signed
with ``X-Hub-Signature-256``) and :mod:`~vigil.events.sources.gitlab` (GitLab CI ``Pipeline
Hook`` / ``Job Hook``, authenticated by ``X-Gitlab-Token``). SageMaker, CodePipeline, CodeBuild
and Step Functions events arrive already in the envelope (from an EventBridge API destination)
and only need :func:`vigil.events.envelope.validate_event`.
"""

from __future__ import annotations

from vigil.events.sources.github import github_event, verify_github_signature
from vigil.events.sources.gitlab import gitlab_event, verify_gitlab_token

__all__ = ["github_event", "gitlab_event", "verify_github_signature", "verify_gitlab_token"]
