"""The S3 side of ``rdss3`` resources: a bucket per resource on
``settings.S3_SANDBOX_URL`` (moto's S3 server in tests and the demo), and the reads the
storage endpoints make of it.

Checksums are calculated only when required (``AWS_REQUEST_CHECKSUM_CALCULATION=
WHEN_REQUIRED``), as Coscine's S3 endpoint needs (notes A.2).
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from django.conf import settings

# Key pairs the sandbox hands out in ``type.options.rdsS3``; moto accepts any keys.
READ_KEYS = ("sandbox-read-access-key", "sandbox-read-secret-key")
WRITE_KEYS = ("sandbox-write-access-key", "sandbox-write-secret-key")


def endpoint() -> str:
    return str(settings.S3_SANDBOX_URL)


def client(*, write: bool = False) -> Any:
    access, secret = WRITE_KEYS if write else READ_KEYS
    return boto3.client(
        "s3",
        endpoint_url=endpoint(),
        aws_access_key_id=access,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=Config(
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            signature_version="s3v4",
        ),
    )


def bucket_name(resource_uuid: str) -> str:
    return f"coscine-{resource_uuid}"


def create_bucket(name: str) -> None:
    client(write=True).create_bucket(Bucket=name)


def list_objects(bucket: str, prefix: str) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    paginator = client().get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        objects.extend(page.get("Contents", []))
    return objects


def head(bucket: str, key: str) -> dict[str, Any] | None:
    try:
        return dict(client().head_object(Bucket=bucket, Key=key))
    except ClientError:
        return None


def get(bucket: str, key: str) -> Any:
    return client().get_object(Bucket=bucket, Key=key)["Body"]


def delete(bucket: str, key: str) -> None:
    client(write=True).delete_object(Bucket=bucket, Key=key)


def presigned_url(bucket: str, key: str) -> str:
    return str(
        client().generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600
        )
    )
