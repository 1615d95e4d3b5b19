from tortoise import migrations
from tortoise.migrations import operations as ops
from server.risks.models import AssessmentKind, RiskCategory, RiskLevel, RiskStatus, RiskStrategy
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0012_token_scopes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Risk',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='risks', on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('category', fields.CharEnumField(default=RiskCategory.OTHER, description='SCHEDULE: SCHEDULE\nCOST: COST\nQUALITY: QUALITY\nRESOURCE: RESOURCE\nEXTERNAL: EXTERNAL\nOTHER: OTHER', enum_type=RiskCategory, max_length=16)),
                ('department', fields.ForeignKeyField('models.Department', source_field='department_id', null=True, db_constraint=True, to_field='id', related_name='risks', on_delete=OnDelete.SET_NULL)),
                ('owner', fields.ForeignKeyField('models.User', source_field='owner_id', null=True, db_constraint=True, to_field='id', related_name='owned_risks', on_delete=OnDelete.SET_NULL)),
                ('probability', fields.IntField()),
                ('impact', fields.IntField()),
                ('level', fields.CharEnumField(db_index=True, description='LOW: LOW\nMEDIUM: MEDIUM\nHIGH: HIGH', enum_type=RiskLevel, max_length=8)),
                ('level_by_hand', fields.BooleanField(default=False)),
                ('level_reason', fields.TextField(default='', unique=False)),
                ('strategy', fields.CharEnumField(null=True, description='AVOID: AVOID\nMITIGATE: MITIGATE\nTRANSFER: TRANSFER\nACCEPT: ACCEPT', enum_type=RiskStrategy, max_length=16)),
                ('measures', fields.TextField(default='', unique=False)),
                ('trigger', fields.TextField(default='', unique=False)),
                ('review_date', fields.DateField(null=True, db_index=True)),
                ('status', fields.CharEnumField(default=RiskStatus.OPEN, description='OPEN: OPEN\nMONITORING: MONITORING\nOCCURRED: OCCURRED\nCLOSED: CLOSED', enum_type=RiskStatus, max_length=16)),
                ('problem', fields.ForeignKeyField('models.Problem', source_field='problem_id', null=True, db_constraint=True, to_field='id', related_name='risks', on_delete=OnDelete.SET_NULL)),
                ('raised_by', fields.ForeignKeyField('models.User', source_field='raised_by_id', null=True, db_constraint=True, to_field='id', related_name='raised_risks', on_delete=OnDelete.SET_NULL)),
                ('version', fields.IntField(default=1)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'risk', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RiskAssessment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('risk', fields.ForeignKeyField('models.Risk', source_field='risk_id', db_constraint=True, to_field='id', related_name='assessments', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='RAISED: RAISED\nUPDATED: UPDATED\nREVIEWED: REVIEWED\nCRITICAL_PATH: CRITICAL_PATH\nMATRIX: MATRIX', enum_type=AssessmentKind, max_length=16)),
                ('probability', fields.IntField()),
                ('impact', fields.IntField()),
                ('level', fields.CharEnumField(description='LOW: LOW\nMEDIUM: MEDIUM\nHIGH: HIGH', enum_type=RiskLevel, max_length=8)),
                ('previous_level', fields.CharEnumField(null=True, description='LOW: LOW\nMEDIUM: MEDIUM\nHIGH: HIGH', enum_type=RiskLevel, max_length=8)),
                ('measures', fields.TextField(default='', unique=False)),
                ('note', fields.TextField(default='', unique=False)),
                ('meeting_id', fields.IntField(null=True, db_index=True)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name='risk_assessments', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'risk_assessment', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RiskTask',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('risk', fields.ForeignKeyField('models.Risk', source_field='risk_id', db_constraint=True, to_field='id', related_name='task_links', on_delete=OnDelete.CASCADE)),
                ('task', fields.ForeignKeyField('models.Task', source_field='task_id', db_constraint=True, to_field='id', related_name='risk_links', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'risk_task', 'app': 'models', 'unique_together': (('risk', 'task'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='ProgressSnapshot',
            name='open_high_risks',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Project',
            name='risk_high_score',
            field=fields.IntField(default=15),
        ),
        ops.AddField(
            model_name='Project',
            name='risk_medium_score',
            field=fields.IntField(default=6),
        ),
    ]
