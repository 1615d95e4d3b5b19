from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from server.discussion.models import SubjectKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0015_kickoff_questions_topic_meetings')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Attachment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.CASCADE)),
                ('subject_kind', fields.CharEnumField(description='TASK: TASK\nPROBLEM: PROBLEM\nRISK: RISK\nMEETING: MEETING\nREQUIREMENT: REQUIREMENT', enum_type=SubjectKind, max_length=16)),
                ('subject_id', fields.IntField()),
                ('uploaded_by', fields.ForeignKeyField('models.User', source_field='uploaded_by_id', null=True, db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.SET_NULL)),
                ('file_name', fields.CharField(max_length=200)),
                ('content_type', fields.CharField(max_length=100)),
                ('size', fields.BigIntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('has_preview', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'attachment', 'app': 'models', 'indexes': [Index(fields=['project_id', 'subject_kind', 'subject_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Comment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='comments', on_delete=OnDelete.CASCADE)),
                ('subject_kind', fields.CharEnumField(description='TASK: TASK\nPROBLEM: PROBLEM\nRISK: RISK\nMEETING: MEETING\nREQUIREMENT: REQUIREMENT', enum_type=SubjectKind, max_length=16)),
                ('subject_id', fields.IntField()),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name='comments', on_delete=OnDelete.SET_NULL)),
                ('body', fields.TextField(unique=False)),
                ('mentions', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('version', fields.IntField(default=1)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('edited_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('withdrawn_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'comment', 'app': 'models', 'indexes': [Index(fields=['project_id', 'subject_kind', 'subject_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
