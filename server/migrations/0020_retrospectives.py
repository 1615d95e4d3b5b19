from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0019_acceptance')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Retrospective',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='retrospectives', on_delete=OnDelete.CASCADE)),
                ('department', fields.ForeignKeyField('models.Department', source_field='department_id', db_constraint=True, to_field='id', related_name='retrospectives', on_delete=OnDelete.RESTRICT)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name='retrospectives', on_delete=OnDelete.SET_NULL)),
                ('went_well', fields.TextField(default='', unique=False)),
                ('to_improve', fields.TextField(default='', unique=False)),
                ('lessons', fields.TextField(default='', unique=False)),
                ('tags', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('slot', fields.CharField(unique=True, max_length=32)),
                ('version', fields.IntField(default=1)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'retrospective', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
