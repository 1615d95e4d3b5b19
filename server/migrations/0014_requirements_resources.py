from tortoise import migrations
from tortoise.migrations import operations as ops
from server.requirements.models import ConflictStatus, GapResolution, GapState, Priority, RequirementStatus, ResourceKind, ResourceStatus
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0013_risk_register')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Requirement',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='requirements', on_delete=OnDelete.CASCADE)),
                ('department', fields.ForeignKeyField('models.Department', source_field='department_id', db_constraint=True, to_field='id', related_name='requirements', on_delete=OnDelete.RESTRICT)),
                ('asked_of', fields.ForeignKeyField('models.Department', source_field='asked_of_id', null=True, db_constraint=True, to_field='id', related_name='requirements_asked', on_delete=OnDelete.SET_NULL)),
                ('title', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('priority', fields.CharEnumField(default=Priority.SHOULD, description='MUST: MUST\nSHOULD: SHOULD\nCOULD: COULD', enum_type=Priority, max_length=8)),
                ('acceptance_criterion', fields.TextField(default='', unique=False)),
                ('needed_by', fields.DateField(null=True)),
                ('status', fields.CharEnumField(default=RequirementStatus.FILED, db_index=True, description='FILED: FILED\nACCEPTED: ACCEPTED\nREJECTED: REJECTED\nMERGED: MERGED', enum_type=RequirementStatus, max_length=10)),
                ('decision_reason', fields.TextField(default='', unique=False)),
                ('merged_into', fields.ForeignKeyField('models.Requirement', source_field='merged_into_id', null=True, db_constraint=True, to_field='id', related_name='merged', on_delete=OnDelete.SET_NULL)),
                ('filed_by', fields.ForeignKeyField('models.User', source_field='filed_by_id', null=True, db_constraint=True, to_field='id', related_name='filed_requirements', on_delete=OnDelete.SET_NULL)),
                ('reviewed_by', fields.ForeignKeyField('models.User', source_field='reviewed_by_id', null=True, db_constraint=True, to_field='id', related_name='reviewed_requirements', on_delete=OnDelete.SET_NULL)),
                ('reviewed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('review_meeting_id', fields.IntField(null=True, db_index=True)),
                ('version', fields.IntField(default=1)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'requirement', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RequirementConflict',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='requirement_conflicts', on_delete=OnDelete.CASCADE)),
                ('requirement_a', fields.ForeignKeyField('models.Requirement', source_field='requirement_a_id', db_constraint=True, to_field='id', related_name='conflicts_a', on_delete=OnDelete.CASCADE)),
                ('requirement_b', fields.ForeignKeyField('models.Requirement', source_field='requirement_b_id', db_constraint=True, to_field='id', related_name='conflicts_b', on_delete=OnDelete.CASCADE)),
                ('pair', fields.CharField(unique=True, max_length=32)),
                ('note', fields.TextField(default='', unique=False)),
                ('status', fields.CharEnumField(default=ConflictStatus.OPEN, description='OPEN: OPEN\nRESOLVED: RESOLVED', enum_type=ConflictStatus, max_length=8)),
                ('decision', fields.TextField(default='', unique=False)),
                ('flagged_by', fields.ForeignKeyField('models.User', source_field='flagged_by_id', null=True, db_constraint=True, to_field='id', related_name='flagged_conflicts', on_delete=OnDelete.SET_NULL)),
                ('resolved_by', fields.ForeignKeyField('models.User', source_field='resolved_by_id', null=True, db_constraint=True, to_field='id', related_name='resolved_conflicts', on_delete=OnDelete.SET_NULL)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('version', fields.IntField(default=1)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'requirement_conflict', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ResourceRequest',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='resource_requests', on_delete=OnDelete.CASCADE)),
                ('department', fields.ForeignKeyField('models.Department', source_field='department_id', db_constraint=True, to_field='id', related_name='resource_requests', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(description='PEOPLE: PEOPLE\nBUDGET: BUDGET\nEQUIPMENT: EQUIPMENT\nOTHER: OTHER', enum_type=ResourceKind, max_length=12)),
                ('description', fields.TextField(unique=False)),
                ('quantity', fields.DecimalField(max_digits=12, decimal_places=2)),
                ('unit', fields.CharField(default='', max_length=32)),
                ('amount', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('currency', fields.CharField(default='CNY', max_length=3)),
                ('needed_by', fields.DateField(null=True)),
                ('supplier', fields.ForeignKeyField('models.Department', source_field='supplier_id', null=True, db_constraint=True, to_field='id', related_name='supplied_requests', on_delete=OnDelete.SET_NULL)),
                ('status', fields.CharEnumField(default=ResourceStatus.REQUESTED, description='REQUESTED: REQUESTED\nCOMMITTED: COMMITTED\nDECLINED: DECLINED', enum_type=ResourceStatus, max_length=10)),
                ('decision_comment', fields.TextField(default='', unique=False)),
                ('decided_by', fields.ForeignKeyField('models.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='decided_requests', on_delete=OnDelete.SET_NULL)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('gap_state', fields.CharEnumField(default=GapState.NONE, description='NONE: NONE\nOPEN: OPEN\nAWAITING_MANAGEMENT: AWAITING_MANAGEMENT\nRESOLVED: RESOLVED', enum_type=GapState, max_length=20)),
                ('gap_resolution', fields.CharEnumField(null=True, description='TRANSFER: TRANSFER\nREPRIORITISE: REPRIORITISE\nMANAGEMENT: MANAGEMENT', enum_type=GapResolution, max_length=12)),
                ('gap_note', fields.TextField(default='', unique=False)),
                ('gap_from', fields.ForeignKeyField('models.Department', source_field='gap_from_id', null=True, db_constraint=True, to_field='id', related_name='gap_transfers', on_delete=OnDelete.SET_NULL)),
                ('management_comment', fields.TextField(default='', unique=False)),
                ('management_by', fields.ForeignKeyField('models.User', source_field='management_by_id', null=True, db_constraint=True, to_field='id', related_name='gap_decisions', on_delete=OnDelete.SET_NULL)),
                ('filed_by', fields.ForeignKeyField('models.User', source_field='filed_by_id', null=True, db_constraint=True, to_field='id', related_name='filed_requests', on_delete=OnDelete.SET_NULL)),
                ('version', fields.IntField(default=1)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'resource_request', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
