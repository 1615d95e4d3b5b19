from datetime import datetime, timezone

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


def _epoch(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int(value.timestamp())


async def seal_existing_signatures(apps, schema_editor):
    """Signatures made before seals existed are sealed as they stand at the upgrade."""
    from server.settings import get_settings
    from server.signoffs.content import SealedFacts, signature_seal

    client = schema_editor.client
    rows = await client.execute_query_dict(
        "SELECT s.id, s.document_id, v.number, s.content_hash, s.department_id, s.signer_id,"
        " s.decision, s.signed_at FROM signature s"
        " JOIN document_version v ON v.id = s.document_version_id WHERE s.seal = ''"
    )
    placeholder = "$1" if client.capabilities.dialect == "postgres" else "?"
    second = "$2" if client.capabilities.dialect == "postgres" else "?"
    secret = get_settings().secret_key
    for row in rows:
        facts = SealedFacts(
            document_id=row["document_id"],
            version_number=row["number"],
            content_hash=row["content_hash"],
            department_id=row["department_id"],
            signer_id=row["signer_id"],
            decision=row["decision"],
            signed_at_epoch=_epoch(row["signed_at"]),
        )
        await client.execute_query(
            f"UPDATE signature SET seal = {placeholder} WHERE id = {second}",
            [signature_seal(secret, facts), row["id"]],
        )


class Migration(migrations.Migration):
    dependencies = [('models', '0007_working_day_count')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Signature',
            name='signed_at',
            field=fields.DatetimeField(auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Signature',
            name='seal',
            field=fields.CharField(default='', max_length=64),
        ),
        ops.RunPython(seal_existing_signatures),
    ]
