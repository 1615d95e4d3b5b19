from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from decimal import Decimal
from json import dumps, loads
from server.changes.models import ApprovalDecision, ChangeKind, ChangeStatus
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0022_meeting_reviews')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ChangeRequest',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='change_requests', on_delete=OnDelete.CASCADE)),
                ('number', fields.IntField()),
                ('slot', fields.CharField(unique=True, max_length=32)),
                ('title', fields.CharField(max_length=200)),
                ('reason', fields.TextField(default='', unique=False)),
                ('kind', fields.CharEnumField(description='SCOPE: SCOPE\nSCHEDULE: SCHEDULE\nCOST: COST\nRESOURCES: RESOURCES\nOTHER: OTHER', enum_type=ChangeKind, max_length=16)),
                ('requester_department', fields.ForeignKeyField('models.Department', source_field='requester_department_id', null=True, db_constraint=True, to_field='id', related_name='change_requests', on_delete=OnDelete.SET_NULL)),
                ('edits', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('cost_delta', fields.DecimalField(default=Decimal('0'), max_digits=14, decimal_places=2)),
                ('impact_notes', fields.TextField(default='', unique=False)),
                ('named_department_ids', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('rebaseline', fields.BooleanField(default=False)),
                ('status', fields.CharEnumField(default=ChangeStatus.DRAFT, description='DRAFT: DRAFT\nSUBMITTED: SUBMITTED\nREJECTED: REJECTED\nAPPLIED: APPLIED\nWITHDRAWN: WITHDRAWN', enum_type=ChangeStatus, max_length=16)),
                ('impact', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('impact_stamp', fields.CharField(default='', max_length=200)),
                ('content_hash', fields.CharField(default='', max_length=64)),
                ('applied', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('apply_problem', fields.TextField(default='', unique=False)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='change_requests', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('submitted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('version', fields.IntField(default=1)),
            ],
            options={'table': 'change_request', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ChangeApproval',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('change_request', fields.ForeignKeyField('models.ChangeRequest', source_field='change_request_id', db_constraint=True, to_field='id', related_name='approvals', on_delete=OnDelete.CASCADE)),
                ('approver_slot', fields.CharField(max_length=32)),
                ('department_id', fields.IntField(null=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='change_approvals', on_delete=OnDelete.SET_NULL)),
                ('decision', fields.CharEnumField(description='APPROVE: APPROVE\nREJECT: REJECT', enum_type=ApprovalDecision, max_length=8)),
                ('comment', fields.TextField(default='', unique=False)),
                ('content_hash', fields.CharField(max_length=64)),
                ('decided_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('unique_key', fields.CharField(unique=True, max_length=120)),
            ],
            options={'table': 'change_approval', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Project',
            name='change_cost_threshold',
            field=fields.DecimalField(null=True, max_digits=14, decimal_places=2),
        ),
        ops.AddField(
            model_name='Project',
            name='change_finish_threshold_days',
            field=fields.IntField(null=True),
        ),
    ]
