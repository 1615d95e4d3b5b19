from tortoise import migrations
from tortoise.migrations import operations as ops
from server.closing.models import AcceptanceStatus
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0018_project_lifecycle')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Acceptance',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='acceptances', on_delete=OnDelete.CASCADE)),
                ('task', fields.ForeignKeyField('models.Task', source_field='task_id', db_constraint=True, to_field='id', related_name='acceptances', on_delete=OnDelete.CASCADE)),
                ('receiving_department', fields.ForeignKeyField('models.Department', source_field='receiving_department_id', db_constraint=True, to_field='id', related_name='acceptances', on_delete=OnDelete.RESTRICT)),
                ('deliverable', fields.TextField(default='', unique=False)),
                ('note', fields.TextField(default='', unique=False)),
                ('status', fields.CharEnumField(default=AcceptanceStatus.SUBMITTED, description='SUBMITTED: SUBMITTED\nACCEPTED: ACCEPTED\nREJECTED: REJECTED', enum_type=AcceptanceStatus, max_length=16)),
                ('submitted_by', fields.ForeignKeyField('models.User', source_field='submitted_by_id', null=True, db_constraint=True, to_field='id', related_name='submitted_acceptances', on_delete=OnDelete.SET_NULL)),
                ('submitted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('decided_by', fields.ForeignKeyField('models.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='decided_acceptances', on_delete=OnDelete.SET_NULL)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('comment', fields.TextField(default='', unique=False)),
                ('evidence_link', fields.CharField(default='', max_length=500)),
                ('meeting_id', fields.IntField(null=True)),
                ('open_slot', fields.CharField(null=True, unique=True, max_length=32)),
                ('version', fields.IntField(default=1)),
            ],
            options={'table': 'acceptance', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
