from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


async def first_edition(apps, schema_editor):
    """A database that already holds a company calendar gets its first token, so each
    process can keep that calendar from its first read on."""
    from uuid import uuid4

    client = schema_editor.client
    _, rows = await client.execute_query("SELECT COUNT(*) FROM calendar_day")
    if not int(rows[0][0]):
        return
    sql = (
        "INSERT INTO calendar_edition (id, token) VALUES ($1, $2)"
        if client.capabilities.dialect == "postgres"
        else "INSERT INTO calendar_edition (id, token) VALUES (?, ?)"
    )
    await client.execute_query(sql, [1, uuid4().hex])


class Migration(migrations.Migration):
    dependencies = [('models', '0024_task_wbs_key')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CalendarEdition',
            fields=[
                ('id', fields.IntField(generated=False, primary_key=True, unique=True, db_index=True)),
                ('token', fields.CharField(max_length=32)),
            ],
            options={'table': 'calendar_edition', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.RunPython(first_edition),
    ]
