from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0021_closing_report')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Acceptance',
            name='meeting_id',
            field=fields.IntField(null=True, db_index=True),
        ),
        ops.AddField(
            model_name='Retrospective',
            name='reviewed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Retrospective',
            name='reviewed_meeting_id',
            field=fields.IntField(null=True, db_index=True),
        ),
    ]
