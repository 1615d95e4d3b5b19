from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from server.notices.models import RobotKind
from server.risks.models import ProblemStatus, Severity
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_progress')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ChatRobot',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', null=True, db_constraint=True, to_field='id', related_name='chat_robots', on_delete=OnDelete.CASCADE)),
                ('department', fields.ForeignKeyField('models.Department', source_field='department_id', null=True, db_constraint=True, to_field='id', related_name='chat_robots', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='DINGTALK: DINGTALK\nFEISHU: FEISHU\nWECOM: WECOM\nGENERIC: GENERIC', enum_type=RobotKind, max_length=16)),
                ('name', fields.CharField(max_length=100)),
                ('url', fields.CharField(max_length=1000)),
                ('secret', fields.CharField(default='', max_length=255)),
                ('active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'chat_robot', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Escalation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='escalations', on_delete=OnDelete.CASCADE)),
                ('slot', fields.CharField(unique=True, max_length=64)),
                ('subject', fields.CharField(db_index=True, max_length=40)),
                ('episode', fields.IntField()),
                ('level', fields.IntField()),
                ('days_late', fields.IntField()),
                ('summary', fields.CharField(max_length=300)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'escalation', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LadderStep',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='ladder_steps', on_delete=OnDelete.CASCADE)),
                ('subject', fields.CharField(unique=True, max_length=40)),
                ('episode', fields.IntField(default=0)),
                ('level', fields.IntField(default=0)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'ladder_step', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Problem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='problems', on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('severity', fields.CharEnumField(default=Severity.MEDIUM, description='LOW: LOW\nMEDIUM: MEDIUM\nHIGH: HIGH\nCRITICAL: CRITICAL', enum_type=Severity, max_length=16)),
                ('status', fields.CharEnumField(default=ProblemStatus.OPEN, description='OPEN: OPEN\nIN_PROGRESS: IN_PROGRESS\nRESOLVED: RESOLVED\nCLOSED: CLOSED', enum_type=ProblemStatus, max_length=16)),
                ('owner', fields.ForeignKeyField('models.User', source_field='owner_id', null=True, db_constraint=True, to_field='id', related_name='owned_problems', on_delete=OnDelete.SET_NULL)),
                ('department', fields.ForeignKeyField('models.Department', source_field='department_id', null=True, db_constraint=True, to_field='id', related_name='problems', on_delete=OnDelete.SET_NULL)),
                ('due_date', fields.DateField(null=True)),
                ('task', fields.ForeignKeyField('models.Task', source_field='task_id', null=True, db_constraint=True, to_field='id', related_name='problems', on_delete=OnDelete.SET_NULL)),
                ('raised_by', fields.ForeignKeyField('models.User', source_field='raised_by_id', null=True, db_constraint=True, to_field='id', related_name='raised_problems', on_delete=OnDelete.SET_NULL)),
                ('resolution', fields.TextField(default='', unique=False)),
                ('version', fields.IntField(default=1)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'problem', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ProgressSnapshot',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='snapshots', on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
                ('slot', fields.CharField(unique=True, max_length=32)),
                ('planned_percent', fields.FloatField()),
                ('actual_percent', fields.FloatField()),
                ('spi', fields.FloatField(null=True)),
                ('late_tasks', fields.IntField()),
                ('late_by_department', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('critical_finish', fields.DateField(null=True)),
                ('forecast_finish', fields.DateField(null=True)),
                ('computed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'progress_snapshot', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TrackingNote',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('task', fields.ForeignKeyField('models.Task', source_field='task_id', db_constraint=True, to_field='id', related_name='tracking_notes', on_delete=OnDelete.CASCADE)),
                ('week', fields.CharField(max_length=8)),
                ('slot', fields.CharField(unique=True, max_length=32)),
                ('cause', fields.TextField(default='', unique=False)),
                ('action', fields.TextField(default='', unique=False)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name='tracking_notes', on_delete=OnDelete.SET_NULL)),
                ('version', fields.IntField(default=1)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'tracking_note', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='BaselineTask',
            index=Index(fields=['baseline_id', 'task_id']),
        ),
        ops.AddField(
            model_name='Notice',
            name='html_body',
            field=fields.TextField(default='', unique=False),
        ),
        ops.AddField(
            model_name='Notice',
            name='mentions',
            field=fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Notice',
            name='robot',
            field=fields.ForeignKeyField('models.ChatRobot', source_field='robot_id', null=True, db_constraint=True, to_field='id', related_name='notices', on_delete=OnDelete.SET_NULL),
        ),
    ]
