from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0009_login_throttle_claims_feeds')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ScheduleStamp',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project_id', fields.IntField(unique=True)),
                ('stamp', fields.CharField(max_length=200)),
            ],
            options={'table': 'schedule_stamp', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Project',
            name='critical_threshold_days',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='Project',
            name='deadline',
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name='Project',
            name='retained_logic',
            field=fields.BooleanField(default=True),
        ),
        ops.AddField(
            model_name='Project',
            name='status_date',
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name='TaskSchedule',
            name='driving_position',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='TaskSchedule',
            name='driving_predecessors',
            field=fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='TaskSchedule',
            name='is_done',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='TaskSchedule',
            name='remaining_days',
            field=fields.IntField(default=0),
        ),
    ]
