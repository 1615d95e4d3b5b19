from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from server.signoffs.models import Decision, DocumentKind, DocumentStatus
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_planning')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SignableDocument',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='documents', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='CHARTER: CHARTER\nCOLLABORATION_CONFIRMATION: COLLABORATION_CONFIRMATION\nPLAN: PLAN\nCHANGE: CHANGE', enum_type=DocumentKind, max_length=32)),
                ('status', fields.CharEnumField(default=DocumentStatus.DRAFT, description='DRAFT: DRAFT\nIN_SIGNING: IN_SIGNING\nSIGNED: SIGNED\nREJECTED: REJECTED', enum_type=DocumentStatus, max_length=16)),
                ('current_number', fields.IntField(default=1)),
                ('kind_slot', fields.CharField(null=True, unique=True, max_length=64)),
                ('version', fields.IntField(default=1)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('signed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'signable_document', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DocumentVersion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('document', fields.ForeignKeyField('models.SignableDocument', source_field='document_id', db_constraint=True, to_field='id', related_name='versions', on_delete=OnDelete.CASCADE)),
                ('number', fields.IntField()),
                ('number_slot', fields.CharField(unique=True, max_length=32)),
                ('body', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('content_hash', fields.CharField(max_length=64)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name='document_versions', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('submitted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'document_version', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Signature',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('document', fields.ForeignKeyField('models.SignableDocument', source_field='document_id', db_constraint=True, to_field='id', related_name='signatures', on_delete=OnDelete.CASCADE)),
                ('document_version', fields.ForeignKeyField('models.DocumentVersion', source_field='document_version_id', db_constraint=True, to_field='id', related_name='signatures', on_delete=OnDelete.CASCADE)),
                ('department', fields.ForeignKeyField('models.Department', source_field='department_id', db_constraint=True, to_field='id', related_name='signatures', on_delete=OnDelete.RESTRICT)),
                ('signer', fields.ForeignKeyField('models.User', source_field='signer_id', db_constraint=True, to_field='id', related_name='signatures', on_delete=OnDelete.RESTRICT)),
                ('decision', fields.CharEnumField(description='APPROVE: APPROVE\nREJECT: REJECT', enum_type=Decision, max_length=8)),
                ('comment', fields.TextField(default='', unique=False)),
                ('content_hash', fields.CharField(max_length=64)),
                ('slot', fields.CharField(unique=True, max_length=32)),
                ('signed_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'signature', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SigningDelegate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='signing_delegates', on_delete=OnDelete.CASCADE)),
                ('department', fields.ForeignKeyField('models.Department', source_field='department_id', db_constraint=True, to_field='id', related_name='signing_delegates', on_delete=OnDelete.RESTRICT)),
                ('delegate', fields.ForeignKeyField('models.User', source_field='delegate_id', db_constraint=True, to_field='id', related_name='signing_delegations', on_delete=OnDelete.RESTRICT)),
                ('named_by', fields.ForeignKeyField('models.User', source_field='named_by_id', db_constraint=True, to_field='id', related_name='named_delegations', on_delete=OnDelete.RESTRICT)),
                ('pair', fields.CharField(unique=True, max_length=32)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'signing_delegate', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
