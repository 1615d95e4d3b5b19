from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


async def fill_wbs_keys(apps, schema_editor):
    """Tasks already planned get the sort key of the code they have."""
    from server.planning.models import wbs_sort_key

    client = schema_editor.client
    rows = await client.execute_query_dict("SELECT id, wbs_code FROM task")
    dialect = client.capabilities.dialect
    sql = (
        "UPDATE task SET wbs_key = $1 WHERE id = $2"
        if dialect == "postgres"
        else "UPDATE task SET wbs_key = ? WHERE id = ?"
    )
    values = [[wbs_sort_key(row["wbs_code"]), row["id"]] for row in rows]
    if values:
        await client.execute_many(sql, values)


class Migration(migrations.Migration):
    dependencies = [('models', '0023_change_requests')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Task',
            name='wbs_key',
            field=fields.CharField(default='', max_length=200, null=True),
        ),
        ops.AddIndex(
            model_name='Task',
            index=Index(fields=['project_id', 'wbs_key', 'id']),
        ),
        ops.RunPython(fill_wbs_keys),
    ]
