from tortoise import migrations
from tortoise.migrations import operations as ops
from server.projects.models import ProjectStatus
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0017_notice_preferences')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Project',
            name='status',
            field=fields.CharEnumField(default=ProjectStatus.PLANNING, description='PLANNING: PLANNING\nACTIVE: ACTIVE\nON_HOLD: ON_HOLD\nCLOSING: CLOSING\nCLOSED: CLOSED\nARCHIVED: ARCHIVED', enum_type=ProjectStatus, max_length=16),
        ),
        ops.AddField(
            model_name='Project',
            name='held_from',
            field=fields.CharEnumField(null=True, description='PLANNING: PLANNING\nACTIVE: ACTIVE\nON_HOLD: ON_HOLD\nCLOSING: CLOSING\nCLOSED: CLOSED\nARCHIVED: ARCHIVED', enum_type=ProjectStatus, max_length=16),
        ),
        ops.AddField(
            model_name='Project',
            name='status_reason',
            field=fields.TextField(null=True, unique=False),
        ),
    ]
