from tortoise import migrations
from tortoise.migrations import operations as ops
from server.signoffs.models import DocumentKind
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0020_retrospectives')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='SignableDocument',
            name='kind',
            field=fields.CharEnumField(description='CHARTER: CHARTER\nCOLLABORATION_CONFIRMATION: COLLABORATION_CONFIRMATION\nPLAN: PLAN\nCHANGE: CHANGE\nCLOSING_REPORT: CLOSING_REPORT', enum_type=DocumentKind, max_length=32),
        ),
    ]
