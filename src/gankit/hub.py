"""`gankit push RUN --repo NAME`: the run's hub folder (gankit.export with its model card), uploaded
to a Hugging Face model repository with huggingface_hub (the `hub` extra).

The token is huggingface_hub's own: HF_TOKEN, or the one `hf auth login` saved.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from gankit.errors import BadInput
from gankit.export import export_generator


def push(run: str | Path, repo: str, private: bool = False, ema: bool = True) -> str:
    """Export the run's generator with its card and upload it to `repo`; returns the commit URL."""
    try:
        import huggingface_hub
    except ImportError:
        raise BadInput("gankit push needs huggingface_hub: pip install 'gankit[hub]'.") from None
    token = huggingface_hub.get_token()
    if not token:
        raise BadInput(
            "no Hugging Face token: set HF_TOKEN, or run `hf auth login`, then push again."
        )
    from huggingface_hub.errors import HfHubHTTPError, HFValidationError

    api = huggingface_hub.HfApi(token=token)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / repo.rpartition("/")[2]
        export_generator(run, folder, ema=ema, card=repo)
        try:
            api.create_repo(repo, repo_type="model", private=private, exist_ok=True)
            commit = api.upload_folder(
                repo_id=repo,
                folder_path=folder,
                repo_type="model",
                commit_message=f"gankit push {Path(run).name}",
            )
        except (HfHubHTTPError, HFValidationError) as e:
            reason = str(e).splitlines()[0][:200]
            raise BadInput(
                f"the Hub refused {repo} ({reason}): check the name (user/model) and that the "
                f"token may write there."
            ) from None
    return str(commit)
