from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from server.meetings.models import Attendance, MeetingKind, MeetingStatus
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0005_execution')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Meeting',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='meetings', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='KICKOFF: KICKOFF\nREQUIREMENT_REVIEW: REQUIREMENT_REVIEW\nPLAN_REVIEW: PLAN_REVIEW\nWEEKLY: WEEKLY\nTOPIC: TOPIC\nACCEPTANCE: ACCEPTANCE\nRETROSPECTIVE: RETROSPECTIVE', enum_type=MeetingKind, max_length=24)),
                ('title', fields.CharField(max_length=200)),
                ('scheduled_start', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('duration_minutes', fields.IntField()),
                ('place', fields.CharField(default='', max_length=500)),
                ('series_key', fields.IntField(null=True, db_index=True)),
                ('status', fields.CharEnumField(default=MeetingStatus.SCHEDULED, description='SCHEDULED: SCHEDULED\nLIVE: LIVE\nENDED: ENDED', enum_type=MeetingStatus, max_length=16)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('minutes_due_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('minutes_draft', fields.TextField(default='', unique=False)),
                ('minutes_published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('minutes_escalation_level', fields.IntField(default=0)),
                ('current_item', fields.IntField(default=0)),
                ('item_started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='created_meetings', on_delete=OnDelete.SET_NULL)),
                ('version', fields.IntField(default=1)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'meeting', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AgendaItem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('meeting', fields.ForeignKeyField('models.Meeting', source_field='meeting_id', db_constraint=True, to_field='id', related_name='agenda', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField()),
                ('title', fields.CharField(max_length=200)),
                ('owner', fields.ForeignKeyField('models.User', source_field='owner_id', null=True, db_constraint=True, to_field='id', related_name='agenda_items', on_delete=OnDelete.SET_NULL)),
                ('minutes', fields.IntField()),
                ('spent_seconds', fields.IntField(null=True)),
            ],
            options={'table': 'agenda_item', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Attendee',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('meeting', fields.ForeignKeyField('models.Meeting', source_field='meeting_id', db_constraint=True, to_field='id', related_name='attendees', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='attendances', on_delete=OnDelete.RESTRICT)),
                ('attendance', fields.CharEnumField(default=Attendance.INVITED, description='INVITED: INVITED\nPRESENT: PRESENT\nABSENT: ABSENT\nEXCUSED: EXCUSED', enum_type=Attendance, max_length=16)),
            ],
            options={'table': 'meeting_attendee', 'app': 'models', 'unique_together': (('meeting', 'user'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Decision',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('meeting', fields.ForeignKeyField('models.Meeting', source_field='meeting_id', db_constraint=True, to_field='id', related_name='decisions', on_delete=OnDelete.CASCADE)),
                ('text', fields.TextField(unique=False)),
                ('recorded_by', fields.ForeignKeyField('models.User', source_field='recorded_by_id', null=True, db_constraint=True, to_field='id', related_name='recorded_decisions', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'decision', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DepartmentReport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('meeting', fields.ForeignKeyField('models.Meeting', source_field='meeting_id', db_constraint=True, to_field='id', related_name='reports', on_delete=OnDelete.CASCADE)),
                ('department', fields.ForeignKeyField('models.Department', source_field='department_id', db_constraint=True, to_field='id', related_name='meeting_reports', on_delete=OnDelete.RESTRICT)),
                ('done', fields.TextField(default='', unique=False)),
                ('next_week', fields.TextField(default='', unique=False)),
                ('submitted_by', fields.ForeignKeyField('models.User', source_field='submitted_by_id', null=True, db_constraint=True, to_field='id', related_name='meeting_reports', on_delete=OnDelete.SET_NULL)),
                ('version', fields.IntField(default=1)),
                ('submitted_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'department_report', 'app': 'models', 'unique_together': (('meeting', 'department'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MinutesRevision',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('meeting', fields.ForeignKeyField('models.Meeting', source_field='meeting_id', db_constraint=True, to_field='id', related_name='minutes_revisions', on_delete=OnDelete.CASCADE)),
                ('revision', fields.IntField()),
                ('body', fields.TextField(unique=False)),
                ('change_note', fields.TextField(default='', unique=False)),
                ('published_by', fields.ForeignKeyField('models.User', source_field='published_by_id', null=True, db_constraint=True, to_field='id', related_name='published_minutes', on_delete=OnDelete.SET_NULL)),
                ('published_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'minutes_revision', 'app': 'models', 'unique_together': (('meeting', 'revision'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReportNeed',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('report', fields.ForeignKeyField('models.DepartmentReport', source_field='report_id', db_constraint=True, to_field='id', related_name='needs', on_delete=OnDelete.CASCADE)),
                ('department', fields.ForeignKeyField('models.Department', source_field='department_id', db_constraint=True, to_field='id', related_name='needs_to_meet', on_delete=OnDelete.RESTRICT)),
                ('text', fields.CharField(max_length=500)),
            ],
            options={'table': 'report_need', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ActionItem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('meeting', fields.ForeignKeyField('models.Meeting', source_field='meeting_id', db_constraint=True, to_field='id', related_name='action_items', on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=200)),
                ('owner', fields.ForeignKeyField('models.User', source_field='owner_id', db_constraint=True, to_field='id', related_name='action_items', on_delete=OnDelete.RESTRICT)),
                ('department', fields.ForeignKeyField('models.Department', source_field='department_id', null=True, db_constraint=True, to_field='id', related_name='action_items', on_delete=OnDelete.SET_NULL)),
                ('due_date', fields.DateField()),
                ('task', fields.ForeignKeyField('models.Task', source_field='task_id', null=True, db_constraint=True, to_field='id', related_name='action_items', on_delete=OnDelete.SET_NULL)),
                ('need', fields.OneToOneField('models.ReportNeed', source_field='need_id', null=True, db_constraint=True, to_field='id', related_name='action_item', on_delete=OnDelete.SET_NULL)),
                ('recorded_by', fields.ForeignKeyField('models.User', source_field='recorded_by_id', null=True, db_constraint=True, to_field='id', related_name='recorded_action_items', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'action_item', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Notice',
            name='attachments',
            field=fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
